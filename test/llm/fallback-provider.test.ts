import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LlmError } from '../../src/llm/errors.ts';
import { createAnthropicProvider } from '../../src/llm/providers/anthropic/anthropic-provider.ts';
import { createFakeProvider, type FakeFailure } from '../../src/llm/providers/fake/fake-provider.ts';
import { createOpenAICompatibleProvider } from '../../src/llm/providers/openai-compatible/openai-compatible-provider.ts';
import { createCircuitBreakerRegistry } from '../../src/llm/resilience/circuit-breaker-registry.ts';
import { createFallbackProvider } from '../../src/llm/resilience/fallback-provider.ts';
import { type AnthropicStandin, startAnthropicStandin } from '../helpers/standins/anthropic-standin.ts';
import {
  type OpenAICompatibleStandin,
  startOpenAICompatibleStandin,
} from '../helpers/standins/openai-compatible-standin.ts';
import { collectStream, waitFor } from './collect-stream.ts';

const question = { messages: [{ role: 'user' as const, content: 'Why did the pipeline fail?' }] };
const fast = { initialDelayMs: 1 };

describe('createFallbackProvider with fakes', () => {
  it('answers from the first provider when it is healthy and reports who served', async () => {
    const primary = createFakeProvider({ id: 'primary' });
    const secondary = createFakeProvider({ id: 'secondary' });
    const fallback = createFallbackProvider([primary, secondary], { retry: fast });
    const result = await fallback.complete(question);
    expect(result.model).toBe('primary:fake-model');
    expect(secondary.calls).toHaveLength(0);
  });

  it('moves on when retries are exhausted on a retryable error, and stops on a non-retryable one', async () => {
    const primary = createFakeProvider({ id: 'primary', failures: { kind: 'overloaded' } });
    const secondary = createFakeProvider({ id: 'secondary' });
    const fallback = createFallbackProvider([primary, { provider: secondary, model: 'backup-model' }], { retry: fast });
    const result = await fallback.complete(question);
    expect(result.model).toBe('secondary:backup-model');
    expect(primary.calls).toHaveLength(3); // three attempts, then fallback
    expect(secondary.calls[0]?.model).toBe('backup-model');

    const broken = createFakeProvider({
      id: 'primary',
      failures: {
        kind: 'error',
        error: new LlmError({ code: 'bad_request', provider: 'primary', message: 'too long' }),
      },
    });
    const untouched = createFakeProvider({ id: 'secondary' });
    await expect(createFallbackProvider([broken, untouched], { retry: fast }).complete(question)).rejects.toMatchObject(
      {
        code: 'bad_request',
      },
    );
    expect(untouched.calls).toHaveLength(0);
  });

  it('throws the last error, naming every provider, when all fail', async () => {
    const first = createFakeProvider({ id: 'first', failures: { kind: 'overloaded' } });
    const second = createFakeProvider({ id: 'second', failures: { kind: 'rate-limited', retryAfterMs: 1 } });
    const error = await createFallbackProvider([first, second], { retry: fast })
      .complete(question)
      .catch((thrown: unknown) => thrown);
    expect(error).toMatchObject({ code: 'rate_limited', provider: 'second', isRetryable: true });
    expect((error as Error).message).toContain('first failed (overloaded)');
  });

  it('streams from the next provider when the first fails before any text', async () => {
    const primary = createFakeProvider({ id: 'primary', failures: { kind: 'overloaded' } });
    const secondary = createFakeProvider({ id: 'secondary', respond: () => 'from the backup' });
    const { text, parts, error } = await collectStream(
      createFallbackProvider([primary, secondary], { retry: fast }).stream(question),
    );
    expect(error).toBeUndefined();
    expect(text).toBe('from the backup');
    expect(parts.at(-1)).toMatchObject({ type: 'finish', model: 'secondary:fake-model' });
  });

  it('never falls back after text was streamed: a truthful, non-retryable error after the 50 chunks', async () => {
    const primary = createFakeProvider({
      id: 'primary',
      chunkSize: 1,
      respond: () => 'p'.repeat(100),
      failures: { kind: 'cut-stream', afterChunks: 50 },
    });
    const secondary = createFakeProvider({ id: 'secondary' });
    const { deltas, error } = await collectStream(
      createFallbackProvider([primary, secondary], { retry: fast }).stream(question),
    );
    expect(deltas).toHaveLength(50);
    expect(deltas.join('')).toBe('p'.repeat(50));
    expect(error).toMatchObject({ code: 'unavailable', provider: 'primary', isRetryable: false });
    expect(error?.message).toContain('after streaming 50 text chunks');
    expect(primary.calls).toHaveLength(1);
    expect(secondary.calls).toHaveLength(0);
  });

  it('applies the per-call timeout and falls back', async () => {
    const primary = createFakeProvider({ id: 'primary', failures: { kind: 'hang' } });
    const secondary = createFakeProvider({ id: 'secondary' });
    const fallback = createFallbackProvider([primary, secondary], {
      retry: { ...fast, maxAttempts: 1 },
      timeoutMs: 50,
    });
    await expect(fallback.complete(question)).resolves.toMatchObject({ model: 'secondary:fake-model' });
    const { parts } = await collectStream(fallback.stream(question));
    expect(parts.at(-1)).toMatchObject({ model: 'secondary:fake-model' });
  });

  it('opens the breaker after the threshold, skips the provider, then half-opens and closes again', async () => {
    let time = 1_000_000;
    const breakers = createCircuitBreakerRegistry({ now: () => time, sleepWindowMs: 10_000 });
    let primaryDown = true;
    const primary = createFakeProvider({
      id: 'primary',
      failures: (): FakeFailure | undefined => (primaryDown ? { kind: 'overloaded' } : undefined),
    });
    const secondary = createFakeProvider({ id: 'secondary' });
    const fallback = createFallbackProvider([primary, secondary], { breakers, retry: { ...fast, maxAttempts: 1 } });

    for (let call = 0; call < 10; call++) {
      expect((await fallback.complete(question)).model).toBe('secondary:fake-model');
    }
    expect(breakers.get('primary:default').state()).toBe('open');
    expect(primary.calls).toHaveLength(10);
    await fallback.complete(question);
    expect(primary.calls).toHaveLength(10); // skipped while open

    primaryDown = false;
    time += 10_000;
    expect(breakers.get('primary:default').state()).toBe('half-open');
    expect((await fallback.complete(question)).model).toBe('primary:fake-model'); // the probe
    expect(breakers.get('primary:default').state()).toBe('closed');
    expect(primary.calls).toHaveLength(11);
    await breakers.close();
  });

  it('reports unavailable with the time until a probe when every breaker is open', async () => {
    let time = 0;
    const breakers = createCircuitBreakerRegistry({ now: () => time, volumeThreshold: 1, sleepWindowMs: 5_000 });
    const only = createFakeProvider({ id: 'only', failures: [{ kind: 'overloaded' }] });
    const fallback = createFallbackProvider([only], { breakers, retry: { ...fast, maxAttempts: 1 } });
    await expect(fallback.complete(question)).rejects.toMatchObject({ code: 'overloaded' });
    time += 1_000;
    await expect(fallback.complete(question)).rejects.toMatchObject({ code: 'unavailable', retryAfterMs: 4_000 });
    expect(only.calls).toHaveLength(1);
  });
});

describe('createFallbackProvider over real SDKs, stand-ins and Redis-shared breakers', () => {
  const keyPrefix = `test-${randomUUID()}:`;
  let anthropicStandin: AnthropicStandin;
  let workerStandin: OpenAICompatibleStandin;
  const clients: Redis[] = [];
  const connect = () => {
    const client = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    anthropicStandin = await startAnthropicStandin();
    workerStandin = await startOpenAICompatibleStandin();
  });
  afterAll(async () => {
    await Promise.all([anthropicStandin.close(), workerStandin.close()]);
    const cleaner = connect();
    const keys = await cleaner.keys(`${keyPrefix}*`);
    if (keys.length) await cleaner.del(...keys);
    await Promise.all(clients.map((client) => client.quit()));
  });

  it('Anthropic 529s open the shared breaker, the self-hosted worker answers, another worker skips Anthropic', async () => {
    const options = { keyPrefix, sleepWindowMs: 400 };
    const breakersA = createCircuitBreakerRegistry({ ...options, redis: connect() });
    const breakersB = createCircuitBreakerRegistry({ ...options, redis: connect() });
    const build = (breakers: typeof breakersA) =>
      createFallbackProvider(
        [
          {
            provider: createAnthropicProvider({ apiKey: 'k', baseURL: anthropicStandin.url, defaultModel: 'unused' }),
            model: 'claude-standin',
          },
          {
            provider: createOpenAICompatibleProvider({
              name: 'self_hosted',
              baseURL: workerStandin.url,
              defaultModel: 'worker-standin',
            }),
          },
        ],
        { breakers, retry: { ...fast, maxAttempts: 1 } },
      );
    const workerA = build(breakersA);
    const workerB = build(breakersB);
    try {
      await Promise.all([
        breakersA.get('anthropic:claude-standin').ready(),
        breakersB.get('anthropic:claude-standin').ready(),
      ]);
      for (let call = 0; call < 10; call++) {
        anthropicStandin.script.enqueue({ kind: 'error', status: 529, errorType: 'overloaded_error' });
        const { text, parts } = await collectStream(workerA.stream(question));
        expect(text).toBe('Stand-in worker answer to: Why did the pipeline fail?');
        expect(parts.at(-1)).toMatchObject({ type: 'finish', model: 'self_hosted:worker-standin' });
      }
      expect(breakersA.get('anthropic:claude-standin').state()).toBe('open');
      await waitFor(() => breakersB.get('anthropic:claude-standin').state() === 'open', 1_000);

      const anthropicCalls = anthropicStandin.messageRequests().length;
      expect((await workerB.complete(question)).model).toBe('self_hosted:worker-standin');
      expect(anthropicStandin.messageRequests().length).toBe(anthropicCalls); // B skipped Anthropic

      await waitFor(() => breakersB.get('anthropic:claude-standin').state() === 'half-open', 2_000);
      const probe = await workerB.complete(question); // Anthropic healthy again: the probe succeeds
      expect(probe.model).toBe('anthropic:claude-standin');
      await waitFor(() => breakersA.get('anthropic:claude-standin').state() === 'closed', 1_000);
      expect((await workerA.complete(question)).model).toBe('anthropic:claude-standin');
    } finally {
      await Promise.all([breakersA.close(), breakersB.close()]);
    }
  });
});
