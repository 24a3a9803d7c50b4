import { OAuth2Client } from 'google-auth-library';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LlmError } from '../../src/llm/errors.ts';
import { createVertexProvider, type VertexProvider } from '../../src/llm/providers/vertex/vertex-provider.ts';
import { standinEmbedding } from '../helpers/standins/standin-server.ts';
import { startVertexStandin, type VertexStandin } from '../helpers/standins/vertex-standin.ts';
import { collectStream, waitFor } from './collect-stream.ts';

// Never let google-auth-library probe the GCE metadata server (169.254.169.254) from a test.
process.env.METADATA_SERVER_DETECTION = 'none';

let standin: VertexStandin;
let provider: VertexProvider;

function tokenClient(token = 'fake-token', expiresInMs = 3_600_000): OAuth2Client {
  const client = new OAuth2Client();
  client.setCredentials({ access_token: token, expiry_date: Date.now() + expiresInMs });
  return client;
}

function createProvider(overrides: Partial<Parameters<typeof createVertexProvider>[0]> = {}): VertexProvider {
  return createVertexProvider({
    project: 'duo-test',
    location: 'us-central1',
    baseUrl: standin.url,
    authClient: tokenClient(),
    defaultModel: 'gemini-standin',
    embeddingModel: 'text-embedding-005',
    ...overrides,
  });
}

beforeAll(async () => {
  standin = await startVertexStandin({ expectedToken: 'fake-token' });
  provider = createProvider();
});
afterAll(() => standin.close());
beforeEach(() => standin.script.clear());

const question = { messages: [{ role: 'user' as const, content: 'What is a pipeline?' }] };
const lastRequest = () => standin.requests.at(-1);

describe('createVertexProvider', () => {
  it('calls :generateContent on v1 with the Gemini body and maps text, finish reason and usage', async () => {
    const result = await provider.complete({
      system: 'You are GitLab Duo.',
      messages: [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello!' },
        { role: 'user', content: 'What is a pipeline?' },
      ],
      maxTokens: 50,
      temperature: 0.2,
      stopSequences: ['Observation:'],
    });
    expect(result).toEqual({
      text: 'Stand-in Gemini answer to: What is a pipeline?',
      finishReason: 'stop',
      usage: { inputTokens: expect.any(Number), outputTokens: 8, estimated: false },
      model: 'gemini-standin',
    });
    const request = lastRequest();
    expect(request?.path).toBe(
      '/v1/projects/duo-test/locations/us-central1/publishers/google/models/gemini-standin:generateContent',
    );
    expect(request?.headers.authorization).toBe('Bearer fake-token');
    expect(request?.body).toMatchObject({
      contents: [
        { role: 'user', parts: [{ text: 'Hi' }] },
        { role: 'model', parts: [{ text: 'Hello!' }] },
        { role: 'user', parts: [{ text: 'What is a pipeline?' }] },
      ],
      systemInstruction: { parts: [{ text: 'You are GitLab Duo.' }] },
      generationConfig: { maxOutputTokens: 50, temperature: 0.2, stopSequences: ['Observation:'] },
    });
  });

  it('maps MAX_TOKENS to length and a SAFETY stop to content-filter', async () => {
    expect((await provider.complete({ ...question, model: 'chunks-10', maxTokens: 3 })).finishReason).toBe('length');
    expect((await provider.complete({ ...question, model: 'safety-stop' })).finishReason).toBe('content-filter');
  });

  it('throws content_blocked when the prompt itself is blocked', async () => {
    await expect(provider.complete({ ...question, model: 'blocked' })).rejects.toMatchObject({
      code: 'content_blocked',
      isRetryable: false,
    });
  });

  it('streams over :streamGenerateContent?alt=sse with usage from the last chunk', async () => {
    const { parts, deltas, error } = await collectStream(provider.stream({ ...question, model: 'chunks-30' }));
    expect(error).toBeUndefined();
    expect(deltas).toHaveLength(30);
    expect(parts.at(-1)).toEqual({
      type: 'finish',
      finishReason: 'stop',
      usage: { inputTokens: expect.any(Number), outputTokens: 30, estimated: false },
      model: 'chunks-30',
    });
    expect(lastRequest()?.path).toMatch(/chunks-30:streamGenerateContent$/);
    expect(lastRequest()?.query.get('alt')).toBe('sse');
  });

  it('throws after the delivered chunks when the stream is cut, duplicating nothing', async () => {
    const { deltas, parts, error } = await collectStream(provider.stream({ ...question, model: 'cut-after-50' }));
    expect(deltas).toEqual(Array.from({ length: 50 }, (_, index) => `c${index} `));
    expect(parts.some((part) => part.type === 'finish')).toBe(false);
    expect(error).toMatchObject({ code: 'unavailable', isRetryable: true });
  });

  it.each([
    ['fail-400', 'bad_request', 400],
    ['fail-403', 'auth', 403],
    ['fail-404', 'bad_request', 404],
    ['fail-500', 'unavailable', 500],
    ['fail-503', 'unavailable', 503],
    ['fail-504', 'timeout', 504],
  ] as const)('maps the Google error envelope of %s to %s', async (model, code, statusCode) => {
    const error = await provider.complete({ ...question, model }).catch((thrown: unknown) => thrown);
    expect(LlmError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code, statusCode, provider: 'vertex' });
  });

  it('maps 429 RESOURCE_EXHAUSTED with RetryInfo to rate_limited with retryAfterMs, in stream too', async () => {
    await expect(provider.complete({ ...question, model: 'fail-429' })).rejects.toMatchObject({
      code: 'rate_limited',
      statusCode: 429,
      retryAfterMs: 20,
    });
    const { error } = await collectStream(provider.stream({ ...question, model: 'fail-429' }));
    expect(error).toMatchObject({ code: 'rate_limited', retryAfterMs: 20 });
  });

  it('maps a rejected token (401) to auth', async () => {
    const wrongToken = createProvider({ authClient: tokenClient('stale-token') });
    await expect(wrongToken.complete(question)).rejects.toMatchObject({ code: 'auth', statusCode: 401 });
  });

  it('maps a token that cannot be obtained to auth without sending the request', async () => {
    const before = standin.requests.length;
    const expired = createProvider({ authClient: tokenClient('old', -60_000) });
    await expect(expired.complete(question)).rejects.toMatchObject({ code: 'auth', isRetryable: false });
    expect(standin.requests.length).toBe(before);
  });

  it('cancels a hanging call: the stand-in sees the abort', async () => {
    const controller = new AbortController();
    const pending = provider.complete({ ...question, model: 'hang' }, { signal: controller.signal });
    await waitFor(() => lastRequest()?.path.includes('/hang:') === true);
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'cancelled' });
    await lastRequest()?.settled;
    expect(lastRequest()?.aborted).toBe(true);
  });

  it('cancels a stream in flight: the stand-in sees the abort', async () => {
    const controller = new AbortController();
    let received = 0;
    let caught: unknown;
    try {
      for await (const part of provider.stream(
        { ...question, model: 'chunks-100-slow-20' },
        { signal: controller.signal },
      )) {
        if (part.type === 'text-delta' && ++received === 3) controller.abort();
      }
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ code: 'cancelled' });
    await lastRequest()?.settled;
    expect(lastRequest()?.aborted).toBe(true);
  });

  it('embeds through :predict in batches, returning 768-dimension vectors in order', async () => {
    const texts = Array.from({ length: 7 }, (_, index) => `document ${index}`);
    const before = standin.requests.length;
    const vectors = await provider.embed(texts);
    expect(vectors).toHaveLength(7);
    expect(vectors[0]).toHaveLength(768);
    expect(vectors[6]).toEqual(standinEmbedding('document 6', 768));
    const calls = standin.requests.slice(before);
    expect(calls.map((call) => call.path)).toEqual([
      '/v1/projects/duo-test/locations/us-central1/publishers/google/models/text-embedding-005:predict',
      '/v1/projects/duo-test/locations/us-central1/publishers/google/models/text-embedding-005:predict',
    ]);
    expect(calls[0]?.body).toEqual({ instances: texts.slice(0, 5).map((content) => ({ content })) });
  });

  it('completes code with code-gecko :predict (prefix/suffix, GitLab parameters)', async () => {
    const result = await provider.completeCode({ prefix: 'function add(a, b) {\n', suffix: '\n}\n' });
    expect(result).toEqual({
      text: '  return a + b;\n',
      finishReason: 'stop',
      usage: { inputTokens: expect.any(Number), outputTokens: 4, estimated: false },
      model: 'code-gecko@002',
    });
    expect(lastRequest()?.path).toBe(
      '/v1/projects/duo-test/locations/us-central1/publishers/google/models/code-gecko@002:predict',
    );
    expect(lastRequest()?.headers.authorization).toBe('Bearer fake-token');
    expect(lastRequest()?.body).toEqual({
      instances: [{ prefix: 'function add(a, b) {\n', suffix: '\n}\n' }],
      parameters: { temperature: 0.2, maxOutputTokens: 64 },
    });
  });

  it('maps code completion errors from the Google envelope', async () => {
    standin.script.enqueue({ kind: 'error', status: 429, retryDelay: '1.5s' });
    await expect(provider.completeCode({ prefix: 'x' })).rejects.toMatchObject({
      code: 'rate_limited',
      retryAfterMs: 1500,
    });
  });
});
