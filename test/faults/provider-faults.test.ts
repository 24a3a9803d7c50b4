import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../seeds/dev-world.ts';
import type { DatabaseHandle } from '../../src/db/client.ts';
import { toGlobalId } from '../../src/gid.ts';
import { connectWebSocketClient } from '../helpers/graphql-clients.ts';
import { createRedisNamespace, testRedisUrl } from '../helpers/redis-namespace.ts';
import {
  type AnthropicBehaviour,
  type AnthropicStandin,
  startAnthropicStandin,
} from '../helpers/standins/anthropic-standin.ts';
import { createSeededEmbeddedDatabase } from '../helpers/test-database.ts';
import { startTestRuntime, type TestRuntime } from '../helpers/test-runtime.ts';
import { figuresOf, printFigures, runChatLoad } from './chat-load.ts';
import { faultTableHeader } from './faults-table.ts';

const namespace = createRedisNamespace();
const developer = { gid: toGlobalId('User', 3), token: devToken('developer') };
let standin: AnthropicStandin;
let database: DatabaseHandle;
let runtime: TestRuntime;
let clients: Client[];

beforeAll(async () => {
  standin = await startAnthropicStandin();
  database = await createSeededEmbeddedDatabase();
  runtime = await startTestRuntime({
    role: 'all',
    database,
    prefix: namespace.prefix,
    environment: {
      USE_FAKE_MODELS: 'false',
      ANTHROPIC_API_KEY: 'sk-ant-test',
      ANTHROPIC_BASE_URL: standin.url,
      ANTHROPIC_MODEL: 'slow-5',
      AI_ACTION_RATE_LIMIT: '0',
      LLM_RETRY_INITIAL_DELAY_MS: '20',
      // A provider that accepts the request and says nothing counts as timed out after 1 s.
      LLM_TIMEOUT_MS: '1000',
    },
  });
  clients = Array.from({ length: 3 }, () => connectWebSocketClient(runtime.baseUrl, developer.token));
}, 60_000);

afterAll(async () => {
  for (const client of clients ?? []) await client.dispose();
  await runtime?.close();
  await database?.close();
  await standin?.close();
  await namespace.cleanup();
});

const rateLimited: AnthropicBehaviour = {
  kind: 'error',
  status: 429,
  errorType: 'rate_limit_error',
  headers: { 'retry-after-ms': '20' },
};
const overloaded: AnthropicBehaviour = { kind: 'error', status: 529, errorType: 'overloaded_error' };
const dropped: AnthropicBehaviour = { kind: 'cut', afterDeltas: 3, deltaCount: 30 };
const silent: AnthropicBehaviour = { kind: 'hang' };
const answer: AnthropicBehaviour = { kind: 'reply' };

describe('provider failures in bursts', () => {
  it('answers or ends truthfully every request through 429s, 529s, dropped connections and timeouts', async () => {
    // Bursts, each followed by a healthy stretch; retries consume behaviours too, so the mix shifts under load.
    const burst = (behaviour: AnthropicBehaviour, count: number) => Array.from({ length: count }, () => behaviour);
    standin.script.enqueue(
      ...burst(rateLimited, 12),
      ...burst(answer, 6),
      ...burst(overloaded, 10),
      ...burst(answer, 6),
      ...burst(dropped, 6),
      ...burst(answer, 6),
      ...burst(silent, 4),
      ...burst(answer, 6),
      ...burst(rateLimited, 8),
      ...burst(dropped, 4),
    );
    const outcomes = await runChatLoad({
      baseUrl: runtime.baseUrl,
      clients,
      reconnect: () => connectWebSocketClient(runtime.baseUrl, developer.token),
      user: developer,
      redisUrl: testRedisUrl,
      prefix: namespace.prefix,
      count: 60,
      concurrency: 12,
      // Half stream straight from the model (a slash command), half go through the agent.
      content: (index) =>
        index % 2 === 0 ? `/explain function f${index}() { return ${index}; }` : `Hello number ${index}`,
      finalTimeoutMs: 30_000,
    });
    const figures = figuresOf(outcomes);
    const injected = 'bursts of 20 × 429, 10 × 529, 10 dropped connections, 4 silent (timeout)';
    console.log(faultTableHeader);
    printFigures('provider failures', injected, figures);
    expect(figures.accepted).toBe(60);
    expect(figures.lost).toBe(0);
    expect(figures.duplicateFinals).toBe(0);
    expect(figures.brokenStreams).toBe(0);
    expect(figures.completed + figures.errored).toBe(60);
    expect(figures.completed).toBeGreaterThan(30);
    // Every error a user sees is one of our user-safe messages, never a provider's raw text.
    for (const outcome of outcomes) {
      for (const error of outcome.finals[0]?.errors ?? []) {
        expect(error).toMatch(/^(I am sorry, I could not answer|GitLab Duo didn't respond|The answer was interrupted)/);
      }
    }
  }, 180_000);
});
