import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../seeds/dev-world.ts';
import type { DatabaseHandle } from '../../src/db/client.ts';
import { changeFeatureFlag } from '../../src/feature-flags/flag-admin.ts';
import { toGlobalId } from '../../src/gid.ts';
import { LlmError } from '../../src/llm/errors.ts';
import { createFakeProvider } from '../../src/llm/providers/fake/fake-provider.ts';
import type { ProviderRegistry } from '../../src/llm/registry.ts';
import type { LlmProvider, LlmRequest, LlmStreamPart } from '../../src/llm/types.ts';
import { createRedis } from '../../src/redis.ts';
import { providerFailureMessage } from '../../src/workers/process-ai-action.ts';
import { connectWebSocketClient, runActionThroughSubscription } from '../helpers/graphql-clients.ts';
import { createRedisNamespace, testRedisUrl } from '../helpers/redis-namespace.ts';
import { createSeededEmbeddedDatabase } from '../helpers/test-database.ts';
import { startTestRuntime, type TestRuntime } from '../helpers/test-runtime.ts';

const namespace = createRedisNamespace();
const fake = createFakeProvider({ chunkSize: 16 });
/** Scripted behaviour per request, keyed by a marker in the prompt. */
let failures: { marker: string; remaining: number; error: () => Error; afterText?: string }[] = [];
const scriptedProvider: LlmProvider = {
  id: 'fake',
  complete: (request, options) => fake.complete(request, options),
  async *stream(request: LlmRequest, options): AsyncIterable<LlmStreamPart> {
    const prompt = request.messages.map((message) => message.content).join('\n');
    const failure = failures.find((candidate) => prompt.includes(candidate.marker) && candidate.remaining > 0);
    if (failure) {
      failure.remaining -= 1;
      if (failure.afterText) yield { type: 'text-delta', text: failure.afterText };
      throw failure.error();
    }
    yield* fake.stream(request, options);
  },
};
const providers: ProviderRegistry = { forFeature: () => scriptedProvider, list: () => [scriptedProvider] };

let database: DatabaseHandle;
let runtime: TestRuntime;
let client: Client;
const developer = { gid: toGlobalId('User', 3), token: devToken('developer') };

const _aiAction = /* GraphQL */ `
  mutation ($input: AiActionInput!) { aiAction(input: $input) { requestId errors } }
`;

async function run(input: Record<string, unknown>, actionName: string) {
  const callsBefore = fake.calls.length;
  const { final, collector, graphqlErrors } = await runActionThroughSubscription({
    baseUrl: runtime.baseUrl,
    client,
    prefix: namespace.prefix,
    redisUrl: testRedisUrl,
    user: developer,
    actionName,
    input,
  });
  expect(graphqlErrors).toBeUndefined();
  return { final, collector, prompts: fake.calls.slice(callsBefore) };
}

beforeAll(async () => {
  database = await createSeededEmbeddedDatabase();
  runtime = await startTestRuntime({ role: 'all', database, prefix: namespace.prefix, providers });
  client = connectWebSocketClient(runtime.baseUrl, developer.token);
}, 60_000);

afterAll(async () => {
  await client.dispose();
  await runtime.close();
  await database.close();
  await namespace.cleanup();
});

describe('AI actions through the queue and the worker', () => {
  it('summarizeComments puts the human comments, wrapped in a random delimiter, into the prompt', async () => {
    const { final, prompts } = await run(
      { summarizeComments: { resourceId: 'gid://gitlab/Issue/1' } },
      'summarize_comments',
    );
    expect(prompts).toHaveLength(1);
    const prompt = prompts[0]?.messages[0]?.content ?? '';
    const delimiter = /<(\d{3})>I can reproduce this on Firefox 128/.exec(prompt)?.[1];
    expect(delimiter).toBeDefined();
    expect(prompt).toContain(
      `<${delimiter}>Added jitter and a cap. Also added a metric for re-auth attempts.</${delimiter}>`,
    );
    expect(prompt.match(new RegExp(`<${delimiter}>[^<]+</${delimiter}>`, 'g'))).toHaveLength(12);
    expect(prompt).not.toContain('changed the description'); // system notes are not comments
    expect(final.extras.status).toBe('COMPLETED');
  });

  it('prompt_migration_summarize_comments switches the user to the migrated prompt definition', async () => {
    const redis = createRedis(testRedisUrl, 'blocking', 'test');
    try {
      await changeFeatureFlag(database.db, redis, namespace.prefix, 'prompt_migration_summarize_comments', {
        kind: 'enable-actor',
        actorType: 'User',
        actorId: 3,
      });
      await new Promise((resolve) => setTimeout(resolve, 200)); // the invalidation message reaches the worker
      const { prompts } = await run(
        { summarizeComments: { resourceId: 'gid://gitlab/Issue/1' } },
        'summarize_comments',
      );
      expect(prompts[0]?.messages[0]?.content).toContain('the decisions taken, then the open');
    } finally {
      await changeFeatureFlag(database.db, redis, namespace.prefix, 'prompt_migration_summarize_comments', {
        kind: 'remove',
      });
      redis.disconnect();
    }
  });

  it('summarizeComments answers without a model when there are no comments', async () => {
    const { final, prompts } = await run(
      { summarizeComments: { resourceId: 'gid://gitlab/Issue/3' } },
      'summarize_comments',
    );
    expect(prompts).toHaveLength(0);
    expect(final.content).toBe('Issue #3 has no comments to be summarized.');
  });

  it('explainCode sends the selected code and streams chunks 1..n', async () => {
    const code = 'function add(a, b) {\n  return a + b;\n}';
    const { final, collector, prompts } = await run(
      { explainCode: { resourceId: 'gid://gitlab/Project/1', messages: [{ role: 'user', content: code }] } },
      'explain_code',
    );
    expect(prompts[0]?.messages).toEqual([{ role: 'user', content: code }]);
    expect(prompts[0]?.system).toContain('software developer');
    const chunks = collector.messages.filter((message) => message.chunkId !== null);
    expect(chunks.map((chunk) => chunk.chunkId)).toEqual(chunks.map((_, index) => index + 1));
    expect(final.content).toBe(chunks.map((chunk) => chunk.content).join(''));
  });

  it('chat about an issue carries the issue into the prompt as quoted data', async () => {
    const { prompts } = await run(
      { chat: { content: 'What is this about?', resourceId: 'gid://gitlab/Issue/1' } },
      'chat',
    );
    // The agent is told which object the user looks at, reads it with IssueReader, and gets it as quoted data.
    expect(prompts[0]?.system).toContain('looking at this GitLab object: Issue #1 in ultimate-org/duo-app');
    expect(prompts[0]?.messages.at(-1)?.content).toBe('Question: What is this about?');
    const observed = prompts[1]?.messages.at(-1)?.content ?? '';
    expect(observed).toContain('Action: IssueReader');
    expect(observed).toContain('<resource type="issue">');
    expect(observed).toContain('"reference": "ultimate-org/duo-app#1"');
    expect(observed).toContain('Pipeline page stops updating after a force push');
  });

  it('retries a retryable provider failure that happened before any text, then answers', async () => {
    failures = [
      {
        marker: 'retry-me',
        remaining: 1,
        error: () => new LlmError({ code: 'overloaded', provider: 'fake', message: 'overloaded', statusCode: 529 }),
      },
    ];
    const { final } = await run({ chat: { content: 'retry-me please' } }, 'chat');
    expect(final.extras.status).toBe('COMPLETED');
    expect(final.content).toContain('retry-me please');
  }, 20_000);

  it('ends with one truthful error message when the provider fails after streaming text', async () => {
    // A slash command streams the model's text as it comes (the agent would hold it back until its final answer).
    failures = [
      {
        marker: 'cut-me',
        remaining: 1,
        afterText: 'Partial answer',
        error: () => new LlmError({ code: 'unavailable', provider: 'fake', message: 'connection reset' }),
      },
    ];
    const { final, collector } = await run({ chat: { content: '/explain cut-me now' } }, 'chat');
    expect(final.extras.status).toBe('ERROR');
    expect(final.errors).toEqual([providerFailureMessage]);
    expect(final.contentHtml).toBeNull();
    expect(final.content).toBe('Partial answer');
    // One chunk, one final message: nothing duplicated by a retry.
    expect(collector.messages.filter((message) => message.requestId === final.requestId)).toHaveLength(2);
  });
});
