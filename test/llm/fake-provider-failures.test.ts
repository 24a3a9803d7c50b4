import { describe, expect, it } from 'vitest';
import { createFakeProvider, defaultFakeAnswer } from '../../src/llm/providers/fake/fake-provider.ts';
import { collectStream } from './collect-stream.ts';

const question = { messages: [{ role: 'user' as const, content: 'Summarize this issue' }] };

describe('createFakeProvider failure injection', () => {
  it('keeps its default behaviour without failures', async () => {
    const fake = createFakeProvider();
    expect(fake.id).toBe('fake');
    expect((await fake.complete(question)).text).toBe(defaultFakeAnswer(question));
    expect(fake.calls).toHaveLength(1);
  });

  it('fails with 429 (retry-after) then 529, consuming an array one item per call', async () => {
    const fake = createFakeProvider({
      failures: [{ kind: 'rate-limited', retryAfterMs: 1500 }, { kind: 'overloaded' }, undefined],
    });
    await expect(fake.complete(question)).rejects.toMatchObject({
      code: 'rate_limited',
      statusCode: 429,
      retryAfterMs: 1500,
    });
    await expect(fake.complete(question)).rejects.toMatchObject({
      code: 'overloaded',
      statusCode: 529,
      isRetryable: true,
    });
    await expect(fake.complete(question)).resolves.toMatchObject({ finishReason: 'stop' });
    await expect(fake.complete(question)).resolves.toMatchObject({ finishReason: 'stop' });
  });

  it('times out, or hangs until the caller aborts', async () => {
    await expect(createFakeProvider({ failures: { kind: 'timeout' } }).complete(question)).rejects.toMatchObject({
      code: 'timeout',
    });
    const controller = new AbortController();
    const pending = createFakeProvider({ failures: { kind: 'hang' } }).complete(question, {
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 20);
    await expect(pending).rejects.toMatchObject({ code: 'cancelled' });
  });

  it('cuts a stream after N chunks with a retryable error', async () => {
    const fake = createFakeProvider({
      id: 'flaky',
      chunkSize: 1,
      respond: () => 'x'.repeat(80),
      failures: { kind: 'cut-stream', afterChunks: 50 },
    });
    const { deltas, error, parts } = await collectStream(fake.stream(question));
    expect(deltas).toHaveLength(50);
    expect(parts.some((part) => part.type === 'finish')).toBe(false);
    expect(error).toMatchObject({ code: 'unavailable', provider: 'flaky', isRetryable: true });
  });

  it('decides per call with a function', async () => {
    const fake = createFakeProvider({
      failures: (_request, callNumber) => (callNumber % 2 === 1 ? { kind: 'overloaded' } : undefined),
    });
    await expect(fake.complete(question)).rejects.toMatchObject({ code: 'overloaded' });
    await expect(fake.complete(question)).resolves.toBeDefined();
  });
});
