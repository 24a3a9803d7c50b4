import type { LlmProvider, LlmRequest, LlmUsage } from '../llm/types.ts';
import type { ProducedAnswer } from './produced-answer.ts';

/** Streams one model answer as chunks; the whole text is the answer. */
export async function streamAnswer(
  provider: LlmProvider,
  request: LlmRequest,
  publishChunk: (text: string) => Promise<void>,
  signal: AbortSignal | undefined,
): Promise<ProducedAnswer> {
  let content = '';
  let model: string | null = null;
  let usage: LlmUsage | undefined;
  for await (const part of provider.stream(request, signal ? { signal } : {})) {
    if (part.type === 'text-delta') {
      content += part.text;
      await publishChunk(part.text);
    } else {
      model = part.model.includes(':') ? part.model : `${provider.id}:${part.model}`;
      usage = part.usage;
    }
  }
  return { content, status: 'completed', sources: [], model, usage, toolsUsed: [] };
}
