import type { LlmRequest } from '../../llm/types.ts';
import type { ChatToolContext } from './chat-tool.ts';

/**
 * Streams a tool's own model answer to the user and returns the whole text. Text from `holdBackFrom`
 * on (the documentation answer's `ATTRS:` citation line) is kept back: it is for us, not the reader.
 */
export async function streamToolAnswer(
  context: ChatToolContext,
  request: LlmRequest,
  holdBackFrom?: string,
): Promise<string> {
  let text = '';
  let shown = 0;
  const visibleEnd = (final: boolean): number => {
    if (!holdBackFrom) return text.length;
    const at = text.indexOf(holdBackFrom);
    if (at >= 0) return at;
    if (final) return text.length;
    // The marker may be arriving in pieces: keep back any end of the text that could start it.
    for (let length = Math.min(holdBackFrom.length - 1, text.length); length > 0; length--) {
      if (text.endsWith(holdBackFrom.slice(0, length))) return text.length - length;
    }
    return text.length;
  };
  const flush = async (final: boolean) => {
    const end = visibleEnd(final);
    if (end > shown) {
      await context.streamAnswer(text.slice(shown, end));
      shown = end;
    }
  };
  for await (const part of context.provider.stream(request, context.signal ? { signal: context.signal } : {})) {
    if (part.type === 'text-delta') {
      text += part.text;
      await flush(false);
    } else {
      context.reportUsage(part.model.includes(':') ? part.model : `${context.provider.id}:${part.model}`, part.usage);
    }
  }
  await flush(true);
  return text;
}
