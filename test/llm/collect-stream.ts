import { LlmError } from '../../src/llm/errors.ts';
import type { LlmStreamPart } from '../../src/llm/types.ts';

/** Everything a stream yielded before it ended or threw, and what it threw. */
export interface CollectedStream {
  parts: LlmStreamPart[];
  text: string;
  deltas: string[];
  error: LlmError | undefined;
}

/** Drains a stream, keeping the parts seen before a failure; a non-LlmError failure fails the test. */
export async function collectStream(stream: AsyncIterable<LlmStreamPart>): Promise<CollectedStream> {
  const parts: LlmStreamPart[] = [];
  let error: LlmError | undefined;
  try {
    for await (const part of stream) parts.push(part);
  } catch (thrown) {
    if (!LlmError.isInstance(thrown)) throw thrown;
    error = thrown;
  }
  const deltas = parts.flatMap((part) => (part.type === 'text-delta' ? [part.text] : []));
  return { parts, text: deltas.join(''), deltas, error };
}

export async function waitFor(condition: () => boolean, timeoutMs = 2_000, intervalMs = 10): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
