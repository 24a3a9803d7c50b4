import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../seeds/dev-world.ts';
import type { DatabaseHandle } from '../../src/db/client.ts';
import { createAnthropicProvider } from '../../src/llm/providers/anthropic/anthropic-provider.ts';
import { createFakeProvider } from '../../src/llm/providers/fake/fake-provider.ts';
import { createRedisNamespace } from '../helpers/redis-namespace.ts';
import { type AnthropicStandin, startAnthropicStandin } from '../helpers/standins/anthropic-standin.ts';
import { createSeededEmbeddedDatabase } from '../helpers/test-database.ts';
import { createInMemoryFeatureFlags, postJson, type RestHarness, startRestHarness } from './rest-harness.ts';

const namespace = createRedisNamespace();
const developerId = 3;
let database: DatabaseHandle;
let standin: AnthropicStandin;
let harness: RestHarness;
const vertex = createFakeProvider({
  id: 'vertex',
  respond: (request) => `vertex says: ${request.messages.at(-1)?.content}`,
});
const flags = createInMemoryFeatureFlags({
  global: ['anthropic_experimentation', 'tofa_experimentation_main_flag'],
  users: { ai_experimentation_api: [developerId] },
});

/**
 * The real SDK against our endpoint. SDK 1.x has no `completions` resource (the legacy `/v1/complete` is gone),
 * but its generic `client.post(path)` builds `baseURL + path`, so a baseURL ending in
 * `/api/v4/ai/experimentation/anthropic` reaches `…/anthropic/complete` with the SDK's own auth header
 * (`Authorization: Bearer <apiKey>`), retries and SSE parser.
 */
function sdkFor(token: string) {
  return new Anthropic({
    apiKey: token,
    baseURL: `${harness.baseUrl}/api/v4/ai/experimentation/anthropic`,
    maxRetries: 0,
  });
}

interface LegacyCompletion {
  type: string;
  completion: string;
  stop_reason: string | null;
  model: string;
}

beforeAll(async () => {
  standin = await startAnthropicStandin();
  database = await createSeededEmbeddedDatabase();
  const anthropic = createAnthropicProvider({
    apiKey: 'sk-ant-test',
    baseURL: standin.url,
    defaultModel: 'claude-test',
  });
  harness = await startRestHarness({
    database,
    prefix: namespace.prefix,
    flags,
    providers: { forFeature: () => anthropic, list: () => [anthropic, vertex] },
  });
});

afterAll(async () => {
  await harness?.close();
  await standin?.close();
  await database?.close();
  await namespace.cleanup();
});

describe('POST /api/v4/ai/experimentation/anthropic/complete through @anthropic-ai/sdk', () => {
  it('answers a legacy completion from our Anthropic provider (flag on)', async () => {
    const result = await sdkFor(devToken('developer')).post<LegacyCompletion>('/complete', {
      body: { prompt: '\n\nHuman: Say hello to GitLab\n\nAssistant:', model: 'claude-test', max_tokens_to_sample: 256 },
    });
    expect(result).toMatchObject({ type: 'completion', model: 'claude-test', stop_reason: 'stop_sequence' });
    expect(result.completion).toContain('Say hello to GitLab');
    const upstream = standin.messageRequests().at(-1)?.body as { messages: unknown[]; max_tokens: number };
    expect(upstream.messages).toEqual([{ role: 'user', content: 'Say hello to GitLab' }]);
    expect(upstream.max_tokens).toBe(256);
  });

  it('passes the stream through as `event: completion` frames the SDK reassembles', async () => {
    const stream = await sdkFor(devToken('developer')).post<AsyncIterable<LegacyCompletion>>('/complete', {
      body: { prompt: '\n\nHuman: count\n\nAssistant:', model: 'deltas-5', stream: true },
      stream: true,
    });
    const frames: LegacyCompletion[] = [];
    for await (const frame of stream) frames.push(frame);
    expect(frames.map((frame) => frame.completion).join('')).toBe('d0 d1 d2 d3 d4 ');
    expect(frames.length).toBe(6);
    expect(frames.at(-1)?.stop_reason).toBe('stop_sequence');
  });

  it('maps an upstream failure to Anthropic’s error body, which the SDK raises as its own error class', async () => {
    const call = sdkFor(devToken('developer')).post('/complete', { body: { prompt: 'hi', model: 'fail-429' } });
    await expect(call).rejects.toBeInstanceOf(Anthropic.RateLimitError);
  });

  it('validates params as GitLab (Grape) does', async () => {
    const url = `${harness.baseUrl}/api/v4/ai/experimentation/anthropic/complete`;
    const headers = { authorization: `Bearer ${devToken('developer')}` };
    expect((await postJson(url, {}, headers)).body).toEqual({ error: 'prompt is missing, model is missing' });
    expect((await postJson(url, { prompt: 'x', model: 'm', temperature: 1.5 }, headers)).body).toEqual({
      error: 'temperature does not have a valid value',
    });
    expect((await postJson(url, { prompt: 'x', model: 'm', max_tokens_to_sample: 'many' }, headers)).body).toEqual({
      error: 'max_tokens_to_sample is invalid',
    });
  });

  it('404 with GitLab’s body when ai_experimentation_api is off for the user, 401 without a token', async () => {
    const call = sdkFor(devToken('owner')).post('/complete', { body: { prompt: 'hi', model: 'claude-test' } });
    await expect(call).rejects.toBeInstanceOf(Anthropic.NotFoundError);
    const raw = await postJson(
      `${harness.baseUrl}/api/v4/ai/experimentation/anthropic/complete`,
      { prompt: 'hi', model: 'claude-test' },
      { authorization: `Bearer ${devToken('owner')}` },
    );
    expect(raw).toMatchObject({ status: 404, body: { message: '404 REST API endpoint not found Not Found' } });
    const anonymous = await postJson(`${harness.baseUrl}/api/v4/ai/experimentation/anthropic/complete`, {});
    expect(anonymous).toMatchObject({ status: 401, body: { message: '401 Unauthorized' } });
  });

  it('404 for everyone when the global provider flag is off', async () => {
    flags.disable('anthropic_experimentation');
    try {
      const call = sdkFor(devToken('developer')).post('/complete', { body: { prompt: 'hi', model: 'claude-test' } });
      await expect(call).rejects.toBeInstanceOf(Anthropic.NotFoundError);
    } finally {
      flags.enable('anthropic_experimentation');
    }
  });
});

describe('POST /api/v4/ai/experimentation/vertex/chat', () => {
  const url = () => `${harness.baseUrl}/api/v4/ai/experimentation/vertex/chat`;
  const headers = { authorization: `Bearer ${devToken('developer')}` };

  it('answers in the :predict shape from the Vertex provider', async () => {
    const response = await postJson(url(), { content: 'What is a merge request?' }, headers);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      predictions: [{ candidates: [{ content: 'vertex says: What is a merge request?' }] }],
    });
    expect(vertex.calls.at(-1)).toMatchObject({ temperature: 0.5, maxTokens: 256 });
  });

  it('takes `messages` as a JSON string, and refuses invalid JSON and out-of-range params', async () => {
    const messages = JSON.stringify([
      { author: 'user', content: 'hi' },
      { author: 'bot', content: 'hello' },
      { author: 'user', content: 'and now?' },
    ]);
    const ok = await postJson(url(), { messages, max_output_tokens: 1024, top_k: 40 }, headers);
    expect(ok.status).toBe(200);
    expect(vertex.calls.at(-1)?.messages.map((message) => message.role)).toEqual(['user', 'assistant', 'user']);
    const badJson = await postJson(url(), { messages: '[{' }, headers);
    expect(badJson.status).toBe(400);
    expect((badJson.body as { message: string }).message).toMatch(/^Failed to parse JSON input: /);
    expect((await postJson(url(), { content: 'x', max_output_tokens: 1025 }, headers)).body).toEqual({
      error: 'max_output_tokens does not have a valid value',
    });
    expect((await postJson(url(), {}, headers)).body).toEqual({
      error: 'content, messages are missing, exactly one parameter must be provided',
    });
    expect((await postJson(url(), { content: 'a', messages: '[]' }, headers)).body).toEqual({
      error: 'content, messages are mutually exclusive',
    });
  });

  it('403 insufficient_scope for a read_api token', async () => {
    const response = await postJson(url(), { content: 'x' }, { authorization: 'Bearer glpat-dev-developer-read' });
    expect(response.status).toBe(403);
    expect(response.body).toMatchObject({ error: 'insufficient_scope' });
  });
});
