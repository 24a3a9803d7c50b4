import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LlmError } from '../../src/llm/errors.ts';
import {
  createModelWorkerProvider,
  type ModelWorkerProvider,
} from '../../src/llm/providers/model-worker/model-worker-provider.ts';
import { createOpenAICompatibleProvider } from '../../src/llm/providers/openai-compatible/openai-compatible-provider.ts';
import type { LlmStreamPart } from '../../src/llm/types.ts';
import { createLogger } from '../../src/logger.ts';
import { createModelWorker, type ModelWorker } from '../../src/model-worker/model-worker.ts';
import { createRedisNamespace, testRedisUrl } from '../helpers/redis-namespace.ts';
import {
  type OpenAICompatibleStandin,
  startOpenAICompatibleStandin,
} from '../helpers/standins/openai-compatible-standin.ts';
import { stringField } from '../helpers/standins/standin-server.ts';
import { waitForRequests } from './model-worker-harness.ts';

const model = 'standin-coder';
const namespace = createRedisNamespace();
let standin: OpenAICompatibleStandin;
let worker: ModelWorker;
let provider: ModelWorkerProvider;

async function collect(parts: AsyncIterable<LlmStreamPart>): Promise<LlmStreamPart[]> {
  const collected: LlmStreamPart[] = [];
  for await (const part of parts) collected.push(part);
  return collected;
}

async function rejection(promise: Promise<unknown>): Promise<LlmError> {
  try {
    await promise;
  } catch (error) {
    if (LlmError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

beforeAll(async () => {
  standin = await startOpenAICompatibleStandin();
  worker = createModelWorker({
    redisUrl: testRedisUrl,
    keyPrefix: namespace.prefix,
    model,
    concurrency: 2,
    provider: createOpenAICompatibleProvider({ name: 'self_hosted', baseURL: standin.url, defaultModel: model }),
    logger: createLogger({ level: 'silent', name: 'test' }),
  });
  await worker.ready();
  provider = createModelWorkerProvider({
    redisUrl: testRedisUrl,
    keyPrefix: namespace.prefix,
    model,
    timeoutMs: 5_000,
  });
});

afterAll(async () => {
  await provider?.close();
  await worker?.close(0);
  await standin?.close();
  await namespace.cleanup();
});

beforeEach(() => {
  standin.script.clear();
  standin.requests.length = 0;
});

describe('model worker through Redis', () => {
  it('streams the model server tokens to the caller in order, then cleans up the job stream', async () => {
    const deltas = Array.from({ length: 40 }, (_, index) => `tok${index} `);
    standin.script.enqueue({ kind: 'reply', deltas });
    const parts = await collect(provider.stream({ messages: [{ role: 'user', content: 'stream please' }] }));
    expect(parts.filter((part) => part.type === 'text-delta').map((part) => part.text)).toEqual(deltas);
    expect(parts.at(-1)).toMatchObject({ type: 'finish', finishReason: 'stop', model });
    expect(standin.requests[0]?.path).toBe('/v1/chat/completions');
    expect(standin.requests[0]?.rawBody).toContain('stream please');
    // The caller deletes the stream once read; nothing is left behind.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await namespace.countKeys('model-worker:job:*')).toBe(0);

    const result = await provider.complete({ messages: [{ role: 'user', content: 'whole answer' }] });
    expect(result.text).toBe('Stand-in worker answer to: whole answer');
  });

  it('maps a model server failure to the same LlmError code', async () => {
    standin.script.enqueue({ kind: 'error', status: 400 });
    const error = await rejection(provider.complete({ messages: [{ role: 'user', content: 'bad' }] }));
    expect(error.code).toBe('bad_request');
    expect(error.statusCode).toBe(400);
  });

  it('cancels a running completion superseded by a newer one for the same user and file (HTTP request aborted)', async () => {
    standin.script.enqueue({ kind: 'hang' });
    const first = rejection(provider.completeCode({ prefix: 'def first(', userId: 7, fileName: 'app.py' }));
    await waitForRequests(standin, 1);
    const second = await provider.completeCode({ prefix: 'def second(', userId: 7, fileName: 'app.py' });
    expect(second.text).toBe('    return a + b');
    const error = await first;
    expect(error.code).toBe('cancelled');
    expect(error.message).toMatch(/superseded/);
    await standin.requests[0]?.settled;
    expect(standin.requests[0]?.aborted).toBe(true);
  });

  it('drops a queued completion superseded before a GPU slot freed up: the model server never sees it', async () => {
    // Both slots busy with hanging chats, so the completions wait in the queue.
    standin.script.enqueue({ kind: 'hang' }, { kind: 'hang' });
    const blockers = [new AbortController(), new AbortController()];
    const blocked = blockers.map((controller) =>
      rejection(provider.complete({ messages: [{ role: 'user', content: 'hold' }] }, { signal: controller.signal })),
    );
    await waitForRequests(standin, 2);
    const older = rejection(provider.completeCode({ prefix: 'OLDER', userId: 9, fileName: 'lib.ts' }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const newer = provider.completeCode({ prefix: 'NEWER', userId: 9, fileName: 'lib.ts' });
    expect((await older).message).toMatch(/superseded/);
    for (const controller of blockers) controller.abort();
    for (const error of await Promise.all(blocked)) expect(error.code).toBe('cancelled');
    expect((await newer).text).toBe('    return a + b');
    const prompts = standin.requests.map((request) => stringField(request.body, 'prompt'));
    expect(prompts).toContain('NEWER');
    expect(prompts).not.toContain('OLDER');
  });

  it("passes the caller's abort on to the model server's HTTP request", async () => {
    standin.script.enqueue({ kind: 'hang' });
    const controller = new AbortController();
    const started = performance.now();
    const parts = provider.stream({ messages: [{ role: 'user', content: 'abort me' }] }, { signal: controller.signal });
    const failure = rejection(collect(parts));
    await waitForRequests(standin, 1);
    controller.abort();
    expect((await failure).code).toBe('cancelled');
    await standin.requests[0]?.settled;
    expect(standin.requests[0]?.aborted).toBe(true);
    expect(performance.now() - started).toBeLessThan(3_000);
  });

  it("on shutdown past its grace period, cancels running jobs: the model server's request is aborted, the caller gets a retryable error", async () => {
    const options = { redisUrl: testRedisUrl, keyPrefix: namespace.prefix, model: 'shutdown-model' };
    const doomed = createModelWorker({
      ...options,
      concurrency: 1,
      provider: createOpenAICompatibleProvider({ name: 'self_hosted', baseURL: standin.url, defaultModel: 'hang' }),
      logger: createLogger({ level: 'silent', name: 'test' }),
    });
    await doomed.ready();
    const caller = createModelWorkerProvider({ ...options, timeoutMs: 5_000 });
    try {
      const failure = rejection(caller.complete({ messages: [{ role: 'user', content: 'never answered' }] }));
      await waitForRequests(standin, 1);
      await doomed.close(100);
      const error = await failure;
      expect(error.code).toBe('unavailable');
      expect(error.isRetryable).toBe(true);
      await standin.requests[0]?.settled;
      expect(standin.requests[0]?.aborted).toBe(true);
    } finally {
      await caller.close();
    }
  });

  it('serves a job that was waiting before the model worker started', async () => {
    const options = { redisUrl: testRedisUrl, keyPrefix: namespace.prefix, model: 'late-model' };
    const caller = createModelWorkerProvider({ ...options, timeoutMs: 5_000 });
    const late = createModelWorker({
      ...options,
      concurrency: 1,
      provider: createOpenAICompatibleProvider({
        name: 'self_hosted',
        baseURL: standin.url,
        defaultModel: 'late-model',
      }),
      logger: createLogger({ level: 'silent', name: 'test' }),
    });
    try {
      const answer = caller.complete({ messages: [{ role: 'user', content: 'waiting' }] });
      await new Promise((resolve) => setTimeout(resolve, 200));
      await late.ready();
      expect((await answer).text).toBe('Stand-in worker answer to: waiting');
    } finally {
      await late.close(0);
      await caller.close();
    }
  });

  it('leaves no key without an expiry behind', async () => {
    const redis = new Redis(testRedisUrl);
    try {
      const keys = await redis.keys(`${namespace.prefix}model-worker:*`);
      for (const key of keys) expect(await redis.pttl(key), key).toBeGreaterThan(0);
    } finally {
      redis.disconnect();
    }
  });

  it("fails with a clear 'unavailable' within the timeout when no model worker serves the model", async () => {
    const lonely = createModelWorkerProvider({
      redisUrl: testRedisUrl,
      keyPrefix: namespace.prefix,
      model: 'nobody-serves-this',
      timeoutMs: 300,
    });
    try {
      const started = performance.now();
      const error = await rejection(lonely.complete({ messages: [{ role: 'user', content: 'anyone?' }] }));
      const elapsed = performance.now() - started;
      expect(error.code).toBe('unavailable');
      expect(error.isRetryable).toBe(true);
      expect(error.message).toMatch(/No model worker took the job for "nobody-serves-this" within 300 ms/);
      expect(elapsed).toBeGreaterThanOrEqual(290);
      expect(elapsed).toBeLessThan(1_500);
      // The abandoned job left the queue: a worker started later will not compute it.
      expect(await namespace.countKeys('bull:model_inference.nobody-serves-this:wait')).toBe(0);
    } finally {
      await lonely.close();
    }
  });
});
