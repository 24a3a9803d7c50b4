import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LlmError } from '../../src/llm/errors.ts';
import { createAnthropicProvider } from '../../src/llm/providers/anthropic/anthropic-provider.ts';
import { createFakeProvider } from '../../src/llm/providers/fake/fake-provider.ts';
import { retryStream, withRetry } from '../../src/llm/resilience/with-retry.ts';
import { streamWithTimeout, withTimeout } from '../../src/llm/resilience/with-timeout.ts';
import type { LlmProvider } from '../../src/llm/types.ts';
import { type AnthropicStandin, startAnthropicStandin } from '../helpers/standins/anthropic-standin.ts';
import { collectStream } from './collect-stream.ts';

let standin: AnthropicStandin;
let anthropic: LlmProvider;
const question = { messages: [{ role: 'user' as const, content: 'Explain the failing job' }] };
const fast = { initialDelayMs: 1 };

beforeAll(async () => {
  standin = await startAnthropicStandin();
  anthropic = createAnthropicProvider({ apiKey: 'k', baseURL: standin.url, defaultModel: 'claude-standin' });
});
afterAll(() => standin.close());
beforeEach(() => standin.script.clear());

describe('withRetry', () => {
  it('retries a 429 after the retry-after the API sent, then succeeds', async () => {
    standin.script.enqueue(
      { kind: 'error', status: 429, errorType: 'rate_limit_error', headers: { 'retry-after-ms': '120' } },
      { kind: 'reply' },
    );
    const before = standin.messageRequests().length;
    const waits: number[] = [];
    const started = Date.now();
    const result = await withRetry(() => anthropic.complete(question), {
      ...fast,
      onRetry: ({ delayMs }) => waits.push(delayMs),
    });
    expect(result.text).toBe('Stand-in answer to: Explain the failing job');
    expect(waits).toEqual([120]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(110);
    expect(standin.messageRequests().length - before).toBe(2);
  });

  it('retries a 529 overloaded', async () => {
    standin.script.enqueue({ kind: 'error', status: 529, errorType: 'overloaded_error' }, { kind: 'reply' });
    await expect(withRetry(() => anthropic.complete(question), fast)).resolves.toMatchObject({ finishReason: 'stop' });
  });

  it('gives up after 3 attempts with the provider error, and never retries a 400', async () => {
    const before = standin.messageRequests().length;
    await expect(withRetry(() => anthropic.complete({ ...question, model: 'fail-500' }), fast)).rejects.toMatchObject({
      code: 'unavailable',
    });
    expect(standin.messageRequests().length - before).toBe(3);
    await expect(withRetry(() => anthropic.complete({ ...question, model: 'fail-400' }), fast)).rejects.toMatchObject({
      code: 'bad_request',
    });
    expect(standin.messageRequests().length - before).toBe(4);
  });

  it('backs off exponentially with GitLab jitter: delay × 2 × (1 + random)', async () => {
    const fake = createFakeProvider({ failures: { kind: 'overloaded' } });
    const waits: number[] = [];
    await expect(
      withRetry(() => fake.complete(question), {
        initialDelayMs: 2,
        maxAttempts: 4,
        random: () => 0.5,
        onRetry: ({ delayMs }) => waits.push(delayMs),
      }),
    ).rejects.toBeInstanceOf(LlmError);
    expect(waits).toEqual([6, 18, 54]);
  });

  it('gives up at once when retry-after exceeds maxRetryAfterMs', async () => {
    const fake = createFakeProvider({ failures: { kind: 'rate-limited', retryAfterMs: 120_000 } });
    await expect(withRetry(() => fake.complete(question), fast)).rejects.toMatchObject({ code: 'rate_limited' });
    expect(fake.calls).toHaveLength(1);
  });

  it('stops waiting when the caller aborts', async () => {
    const fake = createFakeProvider({ failures: { kind: 'rate-limited', retryAfterMs: 10_000 } });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 30);
    await expect(withRetry(() => fake.complete(question), { signal: controller.signal })).rejects.toMatchObject({
      code: 'cancelled',
    });
  });
});

describe('retryStream', () => {
  it('retries a stream that failed before any text', async () => {
    standin.script.enqueue({ kind: 'error', status: 529, errorType: 'overloaded_error' });
    const before = standin.messageRequests().length;
    const { text, error } = await collectStream(
      retryStream(() => anthropic.stream({ ...question, model: 'deltas-5' }), fast),
    );
    expect(error).toBeUndefined();
    expect(text).toBe('d0 d1 d2 d3 d4 ');
    expect(standin.messageRequests().length - before).toBe(2);
  });

  it('never retries a stream that already yielded text: the error follows the 50 deltas, nothing duplicated', async () => {
    const before = standin.messageRequests().length;
    const { deltas, error } = await collectStream(
      retryStream(() => anthropic.stream({ ...question, model: 'cut-after-50' }), fast),
    );
    expect(deltas).toEqual(Array.from({ length: 50 }, (_, index) => `d${index} `));
    expect(error).toMatchObject({ code: 'unavailable' });
    expect(standin.messageRequests().length - before).toBe(1);
  });
});

describe('withTimeout / streamWithTimeout', () => {
  it('aborts a hanging call at the deadline: LlmError timeout, and the stand-in sees the abort', async () => {
    const started = Date.now();
    const error = await withTimeout((signal) => anthropic.complete({ ...question, model: 'hang' }, { signal }), {
      timeoutMs: 150,
      provider: 'anthropic',
    }).catch((thrown: unknown) => thrown);
    expect(error).toMatchObject({ code: 'timeout', isRetryable: true, provider: 'anthropic' });
    expect(Date.now() - started).toBeLessThan(2_000);
    const request = standin.messageRequests().at(-1);
    await request?.settled;
    expect(request?.aborted).toBe(true);
  });

  it('keeps a caller abort as cancelled, not timeout', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 30);
    await expect(
      withTimeout((signal) => anthropic.complete({ ...question, model: 'hang' }, { signal }), {
        timeoutMs: 5_000,
        signal: controller.signal,
        provider: 'anthropic',
      }),
    ).rejects.toMatchObject({ code: 'cancelled' });
  });

  it('times out a stream that goes silent between deltas, and the stand-in sees the abort', async () => {
    const { deltas, error } = await collectStream(
      streamWithTimeout((signal) => anthropic.stream({ ...question, model: 'deltas-5-slow-400' }, { signal }), {
        timeoutMs: 150,
        provider: 'anthropic',
      }),
    );
    expect(deltas).toEqual([]);
    expect(error).toMatchObject({ code: 'timeout' });
    const request = standin.messageRequests().at(-1);
    await request?.settled;
    expect(request?.aborted).toBe(true);
  });

  it('lets a slow but steady stream finish', async () => {
    const { text, error } = await collectStream(
      streamWithTimeout((signal) => anthropic.stream({ ...question, model: 'deltas-5-slow-50' }, { signal }), {
        timeoutMs: 200,
        provider: 'anthropic',
      }),
    );
    expect(error).toBeUndefined();
    expect(text).toBe('d0 d1 d2 d3 d4 ');
  });
});
