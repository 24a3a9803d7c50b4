import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../seeds/dev-world.ts';
import { loadConfig } from '../../src/config.ts';
import type { DatabaseHandle } from '../../src/db/client.ts';
import { createProviderRegistry } from '../../src/llm/registry.ts';
import { createRedisNamespace, testRedisUrl } from '../helpers/redis-namespace.ts';
import {
  type OpenAICompatibleStandin,
  startOpenAICompatibleStandin,
} from '../helpers/standins/openai-compatible-standin.ts';
import { createSeededEmbeddedDatabase } from '../helpers/test-database.ts';
import { postJson, type RestHarness, seedExampleBody, startRestHarness } from './rest-harness.ts';

const namespace = createRedisNamespace();
let database: DatabaseHandle;
let standin: OpenAICompatibleStandin;
let harness: RestHarness;

beforeAll(async () => {
  database = await createSeededEmbeddedDatabase();
  standin = await startOpenAICompatibleStandin();
  const environment = {
    USE_FAKE_MODELS: 'false',
    SELF_HOSTED_MODEL_URL: `${standin.url}/v1`,
    SELF_HOSTED_MODEL_NAME: 'codestral',
    REDIS_URL: testRedisUrl,
  };
  const providers = createProviderRegistry(loadConfig(environment));
  harness = await startRestHarness({ database, prefix: namespace.prefix, providers, environment });
}, 60_000);

afterAll(async () => {
  await harness.close();
  await standin.close();
  await database.close();
  await namespace.cleanup();
});

describe('code suggestions from a self-hosted code model', () => {
  it('ask it to fill in the middle (/v1/completions), through the provider chain, not to chat', async () => {
    const before = standin.requests.length;
    const response = await postJson(`${harness.baseUrl}/v2/completions`, seedExampleBody(), {
      authorization: `Bearer ${devToken('developer')}`,
    });
    expect(response.status).toBe(200);
    const sent = standin.requests.slice(before).map((request) => `${request.method} ${request.path}`);
    expect(sent).toEqual(['POST /v1/completions']);
    expect(response.body).toMatchObject({ model: { engine: expect.any(String), name: 'codestral' } });
  });
});
