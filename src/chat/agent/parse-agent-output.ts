/**
 * One step of the ReAct agent as parsed from the model's text: either a final answer, or a tool to call
 * with its input. GitLab's `ChainOfThoughtParser` (reference §5.3), made tolerant of what models write:
 * `**Action:**` in bold, `Action 1:`, the tool name in backticks or brackets, quoted inputs, lower case.
 */
export type AgentStep =
  | { kind: 'final'; thought: string; finalAnswer: string }
  | { kind: 'action'; thought: string; action: string; actionInput: string };

/** GitLab's stop words: the model must not write the observation itself, nor the next human turn. */
export const agentStopWords = ['\n\nHuman', 'Observation:'];

/** The pseudo-tool GitLab's prompt offers for answering without a tool. */
export const directAnswerAction = 'DirectAnswer';

const finalAnswerMarker = /(?:\*\*)?Final\s+Answer(?:\*\*)?\s*:(?:\*\*)?[ \t]*/i;
const actionMarker = /(?:^|\n)[ \t]*(?:\*\*)?Action(?:\s*\d+)?(?:\*\*)?\s*:(?:\*\*)?[ \t]*/i;
const actionInputMarker = /(?:^|\n)[ \t]*(?:\*\*)?Action\s+Input(?:\s*\d+)?(?:\*\*)?\s*:(?:\*\*)?[ \t]*/i;
const thoughtPrefix = /^\s*(?:\*\*)?Thought(?:\*\*)?\s*:(?:\*\*)?\s*/i;

/** Cuts the text before the first stop word, as the provider would have if it honoured them. */
export function cutAtStopWords(text: string): string {
  let end = text.length;
  for (const word of agentStopWords) {
    const at = text.indexOf(word);
    if (at >= 0 && at < end) end = at;
  }
  return text.slice(0, end);
}

/** `IssueReader`, `` `IssueReader` ``, `[IssueReader]`, `IssueReader tool` → `IssueReader`. */
function cleanToolName(raw: string): string {
  const firstLine = raw.split('\n')[0] ?? '';
  return firstLine
    .replace(/[`*"'[\]]/g, '')
    .replace(/\s+tool\s*$/i, '')
    .trim();
}

function cleanInput(raw: string): string {
  const trimmed = raw.trim();
  const quoted = /^(["'`])([\s\S]*)\1$/.exec(trimmed);
  return (quoted ? (quoted[2] ?? '') : trimmed).trim();
}

export function parseAgentOutput(output: string): AgentStep {
  const text = cutAtStopWords(output);
  const finalAt = text.search(finalAnswerMarker);
  const actionMatch = actionMarker.exec(text);
  const actionAt = actionMatch ? actionMatch.index : -1;
  const thoughtEnd = Math.min(...[finalAt, actionAt, text.length].filter((index) => index >= 0));
  const thought = text.slice(0, thoughtEnd).replace(thoughtPrefix, '').trim();

  // Whichever the model wrote first wins: a "Final Answer" after an action is the model imagining the
  // tool's result, and an action after a final answer is not something to run.
  if (finalAt >= 0 && (actionAt < 0 || finalAt < actionAt)) {
    const marker = finalAnswerMarker.exec(text.slice(finalAt));
    return { kind: 'final', thought, finalAnswer: text.slice(finalAt + (marker?.[0].length ?? 0)).trim() };
  }
  if (actionMatch) {
    const afterAction = text.slice(actionAt + actionMatch[0].length);
    const inputMatch = actionInputMarker.exec(afterAction);
    const action = cleanToolName(inputMatch ? afterAction.slice(0, inputMatch.index) : afterAction);
    const actionInput = inputMatch ? cleanInput(afterAction.slice(inputMatch.index + inputMatch[0].length)) : '';
    if (action.toLowerCase() === directAnswerAction.toLowerCase() || action === '') {
      const marker = finalAnswerMarker.exec(afterAction);
      const finalAnswer = marker ? afterAction.slice(marker.index + marker[0].length).trim() : actionInput;
      return { kind: 'final', thought, finalAnswer: finalAnswer || thought };
    }
    return { kind: 'action', thought, action, actionInput };
  }
  // No marker at all: GitLab's fallback takes the whole text as the answer.
  return { kind: 'final', thought: '', finalAnswer: text.replace(thoughtPrefix, '').trim() };
}
