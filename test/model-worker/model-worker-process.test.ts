import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createModelWorkerProvider,
  type ModelWorkerProvider,
} from '../../src/llm/providers/model-worker/model-worker-provider.ts';
import type { LlmStreamPart } from '../../src/llm/types.ts';
import { createRedisNamespace, testRedisUrl } from '../helpers/redis-namespace.ts';
import {
  type OpenAICompatibleStandin,
  startOpenAICompatibleStandin,
} from '../helpers/standins/openai-compatible-standin.ts';
import {
  type ModelWorkerProcess,
  spawnModelWorker,
  trackConcurrency,
  waitForOutput,
  waitForRequests,
} from './model-worker-harness.ts';

// The stand-in's model-name switches: 8 deltas, 40 ms apart, so one answer takes ~320 ms and ten overlap.
const model = 'deltas-8-slow-40';
const namespace = createRedisNamespace();
let standin: OpenAICompatibleStandin;
let concurrency: ReturnType<typeof trackConcurrency>;
let worker: ModelWorkerProcess;
let provider: ModelWorkerProvider;

beforeAll(async () => {
  standin = await startOpenAICompatibleStandin();
  concurrency = trackConcurrency(standin);
  worker = spawnModelWorker({
    MODEL_WORKER_CONCURRENCY: '2',
    MODEL_SERVER_URL: standin.url,
    MODEL_NAME: model,
    REDIS_URL: testRedisUrl,
    REDIS_KEY_PREFIX: namespace.prefix,
    SHUTDOWN_TIMEOUT_MS: '5000',
  });
  await waitForOutput(worker, 'model worker ready');
  provider = createModelWorkerProvider({
    redisUrl: testRedisUrl,
    keyPrefix: namespace.prefix,
    model,
    timeoutMs: 10_000,
  });
});

afterAll(async () => {
  await provider?.close();
  await worker?.stop('SIGKILL');
  await standin?.close();
  await namespace.cleanup();
});

async function texts(parts: AsyncIterable<LlmStreamPart>): Promise<string[]> {
  const collected: string[] = [];
  for await (const part of parts) if (part.type === 'text-delta') collected.push(part.text);
  return collected;
}

describe('model worker as a child process (npm run start:model-worker)', () => {
  it('computes ten concurrent jobs with two GPU slots: never more than two requests at the model server', async () => {
    const started = performance.now();
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, index) =>
        texts(provider.stream({ messages: [{ role: 'user', content: `job ${index}` }] })),
      ),
    );
    for (const answer of answers) expect(answer).toEqual(Array.from({ length: 8 }, (_, index) => `t${index} `));
    expect(standin.requests).toHaveLength(10);
    expect(concurrency.max).toBe(2);
    // Five rounds of ~320 ms: the slots were really used in parallel, not one at a time (ten rounds).
    expect(performance.now() - started).toBeLessThan(3_000);
  });

  it('finishes the running job on SIGTERM before exiting with 0', async () => {
    const answer = texts(provider.stream({ messages: [{ role: 'user', content: 'last one' }] }));
    await waitForRequests(standin, 11);
    const exitCode = await worker.stop('SIGTERM');
    expect(await answer).toHaveLength(8);
    expect(exitCode).toBe(0);
    expect(worker.output.join('')).toContain('model worker stopped');
  });

  it('refuses a bad variable with one line naming it', async () => {
    const broken = spawnModelWorker({
      MODEL_WORKER_CONCURRENCY: 'many',
      MODEL_SERVER_URL: standin.url,
      MODEL_NAME: model,
    });
    const exitCode = await new Promise<number | null>((resolve) => broken.child.once('exit', resolve));
    expect(exitCode).toBe(78);
    const lines = broken.output.join('').trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^Invalid environment variable MODEL_WORKER_CONCURRENCY="many": /);
  });
});
