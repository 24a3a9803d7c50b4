import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LlmError } from '../../src/llm/errors.ts';
import { createAnthropicProvider } from '../../src/llm/providers/anthropic/anthropic-provider.ts';
import type { LlmProvider } from '../../src/llm/types.ts';
import { type AnthropicStandin, startAnthropicStandin } from '../helpers/standins/anthropic-standin.ts';
import { collectStream, waitFor } from './collect-stream.ts';

let standin: AnthropicStandin;
let provider: LlmProvider;

beforeAll(async () => {
  standin = await startAnthropicStandin();
  provider = createAnthropicProvider({ apiKey: 'test-key', baseURL: standin.url, defaultModel: 'claude-standin' });
});
afterAll(() => standin.close());
beforeEach(() => standin.script.clear());

const question = { messages: [{ role: 'user' as const, content: 'What is a merge request?' }] };

function lastBody(): Record<string, unknown> {
  return standin.messageRequests().at(-1)?.body as Record<string, unknown>;
}

describe('createAnthropicProvider', () => {
  it('completes with system prompt, stop sequences, max tokens, temperature and real usage', async () => {
    const result = await provider.complete({
      ...question,
      system: 'You are GitLab Duo Chat.',
      maxTokens: 100,
      temperature: 0,
      stopSequences: ['\n\nHuman:'],
    });
    expect(result).toEqual({
      text: 'Stand-in answer to: What is a merge request?',
      finishReason: 'stop',
      usage: { inputTokens: expect.any(Number), outputTokens: 8, estimated: false },
      model: 'claude-standin',
    });
    expect(lastBody()).toEqual({
      model: 'claude-standin',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'What is a merge request?' }],
      system: 'You are GitLab Duo Chat.',
      stop_sequences: ['\n\nHuman:'],
      temperature: 0,
      stream: false,
    });
    const request = standin.messageRequests().at(-1);
    expect(request?.headers.authorization).toBe('Bearer test-key');
    expect(request?.headers['x-stainless-retry-count']).toBe('0');
  });

  it('maps stop reasons: max_tokens → length, stop_sequence → stop-sequence', async () => {
    const long = await provider.complete({ ...question, model: 'deltas-20', maxTokens: 5 });
    expect(long.finishReason).toBe('length');
    expect(long.text).toBe('d0 d1 d2 d3 d4 ');
    const stopped = await provider.complete({ ...question, model: 'deltas-20', stopSequences: ['d3'] });
    expect(stopped.finishReason).toBe('stop-sequence');
    expect(stopped.text).toBe('d0 d1 d2 ');
  });

  it('streams text deltas then one finish part with the usage from message_delta', async () => {
    const { parts, text, error } = await collectStream(provider.stream({ ...question, model: 'deltas-60' }));
    expect(error).toBeUndefined();
    expect(parts.filter((part) => part.type === 'text-delta')).toHaveLength(60);
    expect(text).toBe(Array.from({ length: 60 }, (_, index) => `d${index} `).join(''));
    expect(parts.at(-1)).toEqual({
      type: 'finish',
      finishReason: 'stop',
      usage: { inputTokens: expect.any(Number), outputTokens: 60, estimated: false },
      model: 'deltas-60',
    });
    expect(lastBody()?.stream).toBe(true);
  });

  it.each([
    ['fail-429', 'rate_limited', 429, true],
    ['fail-529', 'overloaded', 529, true],
    ['fail-400', 'bad_request', 400, false],
    ['fail-401', 'auth', 401, false],
    ['fail-403', 'auth', 403, false],
    ['fail-500', 'unavailable', 500, true],
    ['fail-504', 'timeout', 504, true],
  ] as const)('maps %s to LlmError %s', async (model, code, statusCode, isRetryable) => {
    const before = standin.messageRequests().length;
    const error = await provider.complete({ ...question, model }).catch((thrown: unknown) => thrown);
    expect(LlmError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code, statusCode, isRetryable, provider: 'anthropic' });
    // maxRetries 0: the SDK made exactly one attempt.
    expect(standin.messageRequests().length - before).toBe(1);
  });

  it('reads retry-after-ms (preferred) and retry-after from a 429', async () => {
    const error = await provider.complete({ ...question, model: 'fail-429' }).catch((thrown: unknown) => thrown);
    expect(error).toMatchObject({ code: 'rate_limited', retryAfterMs: 20 });
    standin.script.enqueue({
      kind: 'error',
      status: 429,
      errorType: 'rate_limit_error',
      headers: { 'retry-after': '3' },
    });
    const secondsOnly = await provider.complete(question).catch((thrown: unknown) => thrown);
    expect(secondsOnly).toMatchObject({ code: 'rate_limited', retryAfterMs: 3000 });
  });

  it('maps errors on the streaming request before any text', async () => {
    const { parts, error } = await collectStream(provider.stream({ ...question, model: 'fail-529' }));
    expect(parts).toEqual([]);
    expect(error).toMatchObject({ code: 'overloaded', statusCode: 529 });
  });

  it('throws after the delivered deltas when the connection is cut after 50 deltas, duplicating nothing', async () => {
    const { deltas, parts, error } = await collectStream(provider.stream({ ...question, model: 'cut-after-50' }));
    expect(deltas).toEqual(Array.from({ length: 50 }, (_, index) => `d${index} `));
    expect(parts.some((part) => part.type === 'finish')).toBe(false);
    expect(error).toMatchObject({ code: 'unavailable', isRetryable: true });
    expect(standin.messageRequests().at(-1)?.cutByServer).toBe(true);
  });

  it('turns a mid-stream `event: error` into an LlmError after the text already sent', async () => {
    const { deltas, error } = await collectStream(provider.stream({ ...question, model: 'stream-error-after-3' }));
    expect(deltas).toEqual(['d0 ', 'd1 ', 'd2 ']);
    expect(error).toMatchObject({ code: 'overloaded', statusCode: undefined });
  });

  it('cancels a hanging request: the stand-in sees the connection abort', async () => {
    const controller = new AbortController();
    const pending = provider.complete({ ...question, model: 'hang' }, { signal: controller.signal });
    await waitFor(() => standin.messageRequests().at(-1)?.body !== undefined && lastBody()?.model === 'hang');
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'cancelled' });
    const request = standin.messageRequests().at(-1);
    await request?.settled;
    expect(request?.aborted).toBe(true);
  });

  it('cancels a stream in flight: the stand-in sees the abort and the stream throws cancelled', async () => {
    const controller = new AbortController();
    const received: string[] = [];
    const stream = provider.stream({ ...question, model: 'deltas-100-slow-20' }, { signal: controller.signal });
    const error = await (async () => {
      try {
        for await (const part of stream) {
          if (part.type === 'text-delta') received.push(part.text);
          if (received.length === 3) controller.abort();
        }
      } catch (thrown) {
        return thrown;
      }
      return undefined;
    })();
    expect(error).toMatchObject({ code: 'cancelled' });
    expect(received.length).toBeLessThan(100);
    const request = standin.messageRequests().at(-1);
    await request?.settled;
    expect(request?.aborted).toBe(true);
  });

  it('maps the SDK timeout to LlmError timeout', async () => {
    const impatient = createAnthropicProvider({
      apiKey: 'test-key',
      baseURL: standin.url,
      defaultModel: 'hang',
      timeoutMs: 100,
    });
    await expect(impatient.complete(question)).rejects.toMatchObject({ code: 'timeout', isRetryable: true });
  });

  it('maps an unreachable server to unavailable', async () => {
    const nowhere = createAnthropicProvider({ apiKey: 'k', baseURL: 'http://127.0.0.1:9', defaultModel: 'm' });
    await expect(nowhere.complete(question)).rejects.toMatchObject({ code: 'unavailable' });
  });
});
