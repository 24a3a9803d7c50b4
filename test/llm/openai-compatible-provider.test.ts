import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fimFamilyForModel } from '../../src/llm/providers/openai-compatible/fim-templates.ts';
import {
  createOpenAICompatibleProvider,
  type OpenAICompatibleProvider,
} from '../../src/llm/providers/openai-compatible/openai-compatible-provider.ts';
import {
  type OpenAICompatibleStandin,
  startOpenAICompatibleStandin,
} from '../helpers/standins/openai-compatible-standin.ts';
import { standinEmbedding } from '../helpers/standins/standin-server.ts';
import { collectStream, waitFor } from './collect-stream.ts';

let standin: OpenAICompatibleStandin;
let provider: OpenAICompatibleProvider;

beforeAll(async () => {
  standin = await startOpenAICompatibleStandin({ apiKey: 'worker-key' });
  provider = createOpenAICompatibleProvider({
    name: 'self_hosted',
    baseURL: standin.url, // no path: `/v1` is appended
    apiKey: 'worker-key',
    defaultModel: 'mistral-standin',
    codeModel: 'google/codegemma-7b',
    embeddingModel: 'embed-standin',
  });
});
afterAll(() => standin.close());
beforeEach(() => standin.script.clear());

const question = { messages: [{ role: 'user' as const, content: 'Explain this code' }] };
const lastRequest = () => standin.requests.at(-1);

describe('the stand-in, checked with the official openai client', () => {
  it('serves chat completions streamed with usage and [DONE], completions and embeddings', async () => {
    const client = new OpenAI({ apiKey: 'worker-key', baseURL: `${standin.url}/v1`, maxRetries: 0 });
    const stream = await client.chat.completions.create({
      model: 'deltas-5',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      usage = chunk.usage ?? usage;
    }
    expect(text).toBe('t0 t1 t2 t3 t4 ');
    expect(usage?.completion_tokens).toBe(5);
    const completion = await client.completions.create({ model: 'starcoder', prompt: 'def f():', max_tokens: 8 });
    expect(completion.choices[0]?.text).toBe('    return a + b');
    const embeddings = await client.embeddings.create({ model: 'e', input: ['a', 'b'], encoding_format: 'float' });
    expect(embeddings.data.find((item) => item.index === 1)?.embedding).toEqual(standinEmbedding('b', 768));
    await expect(
      client.chat.completions.create({ model: 'fail-429', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toMatchObject({ status: 429 });
  });
});

describe('createOpenAICompatibleProvider', () => {
  it('completes through /v1/chat/completions with the system prompt first and real usage', async () => {
    const result = await provider.complete({
      ...question,
      system: 'You are a code assistant.',
      maxTokens: 40,
      temperature: 0.1,
      stopSequences: ['\nUser:'],
    });
    expect(result).toEqual({
      text: 'Stand-in worker answer to: Explain this code',
      finishReason: 'stop',
      usage: { inputTokens: expect.any(Number), outputTokens: 7, estimated: false },
      model: 'mistral-standin',
    });
    expect(lastRequest()?.path).toBe('/v1/chat/completions');
    expect(lastRequest()?.headers.authorization).toBe('Bearer worker-key');
    expect(lastRequest()?.body).toEqual({
      model: 'mistral-standin',
      messages: [
        { role: 'system', content: 'You are a code assistant.' },
        { role: 'user', content: 'Explain this code' },
      ],
      max_tokens: 40,
      temperature: 0.1,
      stop: ['\nUser:'],
      stream: false,
    });
  });

  it('maps length and vLLM stop_reason (a matched stop string) to finish reasons', async () => {
    expect((await provider.complete({ ...question, model: 'deltas-10', maxTokens: 2 })).finishReason).toBe('length');
    const stopped = await provider.complete({ ...question, model: 'deltas-10', stopSequences: ['t4'] });
    expect(stopped).toMatchObject({ finishReason: 'stop-sequence', text: 't0 t1 t2 t3 ' });
  });

  it('streams SSE data chunks until [DONE], taking usage from the final usage chunk', async () => {
    const { parts, deltas, error } = await collectStream(provider.stream({ ...question, model: 'deltas-60' }));
    expect(error).toBeUndefined();
    expect(deltas).toHaveLength(60);
    expect(parts.at(-1)).toEqual({
      type: 'finish',
      finishReason: 'stop',
      usage: { inputTokens: expect.any(Number), outputTokens: 60, estimated: false },
      model: 'deltas-60',
    });
    expect(lastRequest()?.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it('throws after the delivered deltas when the connection is cut before [DONE]', async () => {
    const { deltas, parts, error } = await collectStream(provider.stream({ ...question, model: 'cut-after-50' }));
    expect(deltas).toEqual(Array.from({ length: 50 }, (_, index) => `t${index} `));
    expect(parts.some((part) => part.type === 'finish')).toBe(false);
    expect(error).toMatchObject({ code: 'unavailable', isRetryable: true });
  });

  it('turns an {"error":…} frame inside the stream into an LlmError', async () => {
    const { deltas, error } = await collectStream(provider.stream({ ...question, model: 'stream-error-after-2' }));
    expect(deltas).toEqual(['t0 ', 't1 ']);
    expect(error).toMatchObject({ code: 'unavailable', statusCode: 500 });
  });

  it.each([
    ['fail-400', 'bad_request', 400],
    ['fail-404', 'bad_request', 404],
    ['fail-500', 'unavailable', 500],
    ['fail-503', 'unavailable', 503],
    ['fail-504', 'timeout', 504],
  ] as const)('maps HTTP errors: %s → %s', async (model, code, statusCode) => {
    await expect(provider.complete({ ...question, model })).rejects.toMatchObject({ code, statusCode });
  });

  it('maps 429 with retry-after-ms, and a wrong key to auth', async () => {
    await expect(provider.complete({ ...question, model: 'fail-429' })).rejects.toMatchObject({
      code: 'rate_limited',
      retryAfterMs: 20,
    });
    const wrongKey = createOpenAICompatibleProvider({
      name: 'self_hosted',
      baseURL: `${standin.url}/v1`,
      apiKey: 'nope',
      defaultModel: 'm',
    });
    await expect(wrongKey.complete(question)).rejects.toMatchObject({ code: 'auth', statusCode: 401 });
  });

  it('cancels: the stand-in sees the abort of a hanging request and of a stream in flight', async () => {
    const controller = new AbortController();
    const pending = provider.complete({ ...question, model: 'hang' }, { signal: controller.signal });
    await waitFor(() => (lastRequest()?.body as { model?: string } | undefined)?.model === 'hang');
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'cancelled' });
    await lastRequest()?.settled;
    expect(lastRequest()?.aborted).toBe(true);

    const streamController = new AbortController();
    let received = 0;
    let caught: unknown;
    try {
      for await (const part of provider.stream(
        { ...question, model: 'deltas-100-slow-20' },
        { signal: streamController.signal },
      )) {
        if (part.type === 'text-delta' && ++received === 3) streamController.abort();
      }
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ code: 'cancelled' });
    await lastRequest()?.settled;
    expect(lastRequest()?.aborted).toBe(true);
  });

  it('closes the connection when the consumer stops reading early', async () => {
    for await (const part of provider.stream({ ...question, model: 'deltas-100-slow-20' })) {
      if (part.type === 'text-delta') break;
    }
    await lastRequest()?.settled;
    expect(lastRequest()?.aborted).toBe(true);
  });

  it('embeds through /v1/embeddings, ordering vectors by index', async () => {
    const vectors = await provider.embed(['alpha', 'beta', 'gamma']);
    expect(vectors).toEqual(['alpha', 'beta', 'gamma'].map((text) => standinEmbedding(text, 768)));
    expect(lastRequest()?.body).toEqual({
      model: 'embed-standin',
      input: ['alpha', 'beta', 'gamma'],
      encoding_format: 'float',
    });
  });

  it.each([
    ['google/codegemma-7b', '<|fim_prefix|>def add(a, b):\n<|fim_suffix|>\nprint(add(1, 2))<|fim_middle|>'],
    ['codestral-22b', '<s>[SUFFIX]\nprint(add(1, 2))[PREFIX]def add(a, b):\n'],
    [
      'deepseek-ai/deepseek-coder-6.7b-base',
      '<｜fim▁begin｜>def add(a, b):\n<｜fim▁hole｜>\nprint(add(1, 2))<｜fim▁end｜>',
    ],
    ['bigcode/starcoder2-15b', '<fim_prefix>def add(a, b):\n<fim_suffix>\nprint(add(1, 2))<fim_middle>'],
  ])('completes code for %s with its FIM template through /v1/completions', async (model, prompt) => {
    const result = await provider.completeCode({ prefix: 'def add(a, b):\n', suffix: '\nprint(add(1, 2))', model });
    expect(result.text).toBe('    return a + b');
    expect(lastRequest()?.path).toBe('/v1/completions');
    const body = lastRequest()?.body as Record<string, unknown>;
    expect(body.prompt).toBe(prompt);
    expect(body.suffix).toBeUndefined();
    expect(Array.isArray(body.stop) && body.stop.length > 0).toBe(true);
  });

  it('sends the raw suffix field for models without a known FIM template (Ollama, FauxPilot)', async () => {
    await provider.completeCode({ prefix: 'x = ', suffix: '\n', model: 'codegen', maxTokens: 16 });
    expect(lastRequest()?.body).toEqual({
      model: 'codegen',
      prompt: 'x = ',
      suffix: '\n',
      max_tokens: 16,
      temperature: 0.2,
      stream: false,
    });
    expect(fimFamilyForModel('codegen')).toBeUndefined();
  });
});
