import type { LlmMessage } from '../../llm/types.ts';

const turnMarker = /\n\n(Human|Assistant):/g;

/**
 * Splits a Text Completions prompt (`\n\nHuman: …\n\nAssistant:`) into Messages API turns, since Anthropic's
 * SDK 1.x and current models only speak Messages. Text before the first marker becomes the system prompt; the
 * empty closing `Assistant:` is the cue to answer and is dropped; a non-empty one is kept as a prefill. A
 * prompt without markers is one user turn.
 */
export function legacyPromptToMessages(prompt: string): { system?: string; messages: LlmMessage[] } {
  const markers = [...prompt.matchAll(turnMarker)];
  if (markers.length === 0) return { messages: [{ role: 'user', content: prompt.trim() }] };
  const preamble = prompt.slice(0, markers[0]?.index).trim();
  const messages: LlmMessage[] = [];
  markers.forEach((marker, position) => {
    const start = (marker.index ?? 0) + marker[0].length;
    const end = markers[position + 1]?.index ?? prompt.length;
    const role = marker[1] === 'Human' ? 'user' : 'assistant';
    const content = prompt.slice(start, end).trim();
    const previous = messages.at(-1);
    if (previous && previous.role === role) previous.content = `${previous.content}\n\n${content}`.trim();
    else messages.push({ role, content });
  });
  const last = messages.at(-1);
  if (last?.role === 'assistant' && last.content === '') messages.pop();
  return { ...(preamble ? { system: preamble } : {}), messages };
}
