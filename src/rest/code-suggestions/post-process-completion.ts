import type { LlmFinishReason } from '../../llm/types.ts';

/**
 * GitLab AI-assist's `remove_incomplete_lines`: cut after the last newline, when there is one past the first
 * character. A one-line suggestion (finishing the current line) is kept whole.
 */
export function removeIncompleteLines(text: string): string {
  const lastNewline = text.lastIndexOf('\n');
  return lastNewline > 0 ? text.slice(0, lastNewline + 1) : text;
}

/**
 * Cleans a model's suggestion: a chat model may wrap code in a Markdown fence (its opening line is dropped and
 * the text is cut at the closing fence, as GitLab cut codegen output at the first "```"); a suggestion cut by
 * the token limit loses its incomplete last line. A model that stopped on its own ended a line it meant to end.
 */
export function postProcessCompletion(text: string, finishReason: LlmFinishReason): string {
  let cleaned = text;
  const opening = /^\s*```[\w+#.-]*[^\S\n]*\n/.exec(cleaned);
  if (opening) cleaned = cleaned.slice(opening[0].length);
  const fence = cleaned.indexOf('```');
  if (fence >= 0) cleaned = cleaned.slice(0, fence);
  return finishReason === 'length' ? removeIncompleteLines(cleaned) : cleaned;
}
