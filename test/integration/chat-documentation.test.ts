import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../seeds/dev-world.ts';
import type { DatabaseHandle } from '../../src/db/client.ts';
import { toGlobalId } from '../../src/gid.ts';
import { createFakeProvider, defaultFakeAnswer } from '../../src/llm/providers/fake/fake-provider.ts';
import type { ProviderRegistry } from '../../src/llm/registry.ts';
import { createLogger } from '../../src/logger.ts';
import { createDocumentationRetriever } from '../../src/rag/documentation-retriever.ts';
import { documentationPageFromMarkdown } from '../../src/rag/read-documentation-pages.ts';
import { seedDocumentation } from '../../src/rag/seed-documentation.ts';
import {
  connectWebSocketClient,
  graphqlRequest,
  isFinalAnswer,
  subscribeOverWebSocket,
  waitForSubscribers,
} from '../helpers/graphql-clients.ts';
import { createRedisNamespace, testRedisUrl } from '../helpers/redis-namespace.ts';
import { createSeededEmbeddedDatabase } from '../helpers/test-database.ts';
import { startTestRuntime, type TestRuntime } from '../helpers/test-runtime.ts';
import { documentationFolder } from '../rag/corpus.ts';
import { createHashingEmbedder } from '../rag/hashing-embedder.ts';

const namespace = createRedisNamespace();
// A model that answers from the first quoted chunk and cites it, as the documentation prompt asks.
const fake = createFakeProvider({
  respond: (request) => {
    const prompt = request.messages.map((message) => message.content).join('\n');
    const id = /CNT-IDX-(\d+)/.exec(prompt)?.[1];
    return id
      ? `Choose **Forgot your password?** on the sign-in page.\nATTRS: CNT-IDX-${id}`
      : defaultFakeAnswer(request);
  },
});
const providers: ProviderRegistry = { forFeature: () => fake, list: () => [fake] };
let database: DatabaseHandle;
let runtime: TestRuntime;
let client: Client;
const developer = { gid: toGlobalId('User', 3), token: devToken('developer') };

async function ask(content: string, resourceId?: string) {
  const collector = subscribeOverWebSocket(client, { userId: developer.gid, aiAction: 'CHAT' });
  await waitForSubscribers(testRedisUrl, namespace.prefix, { userId: developer.gid, aiAction: 'chat' });
  const response = await graphqlRequest<{ aiAction: { requestId: string } }>(
    runtime.baseUrl,
    'mutation ($content: String!, $resourceId: AiModelID) { aiAction(input: { chat: { content: $content, resourceId: $resourceId } }) { requestId } }',
    { token: developer.token, variables: { content, resourceId } },
  );
  const final = await collector.waitFor(isFinalAnswer(response.body.data?.aiAction.requestId), 20_000);
  collector.stop();
  return final;
}

beforeAll(async () => {
  database = await createSeededEmbeddedDatabase();
  const pages = await Promise.all(
    ['user/profile/user_passwords.md', 'ci/_index.md', 'ci/debugging.md'].map(async (file) =>
      documentationPageFromMarkdown(file, await readFile(path.join(documentationFolder, file), 'utf8')),
    ),
  );
  const embedder = createHashingEmbedder();
  await seedDocumentation(database.db, {
    pages: pages.filter((page) => page !== undefined),
    embedder,
    origin: 'test',
  });
  runtime = await startTestRuntime({
    role: 'all',
    database,
    prefix: namespace.prefix,
    providers,
    documentation: createDocumentationRetriever({
      db: database.db,
      loadEmbedder: async () => embedder,
      logger: createLogger({ level: 'silent', name: 'test' }),
      // The test's hashing embedder scores lower than the offline model; quote whatever ranks first.
      minSimilarity: 0,
    }),
  });
  client = connectWebSocketClient(runtime.baseUrl, developer.token);
}, 60_000);

afterAll(async () => {
  await client.dispose();
  await runtime.close();
  await database.close();
  await namespace.cleanup();
});

describe('chat answers product questions from the seeded documentation', () => {
  it('quotes the relevant chunks to the model and cites the source on the final message', async () => {
    const final = await ask('how do i reset my password, i forgot it');
    const prompt = fake.calls.at(-1)?.messages.at(-1)?.content ?? '';
    expect(prompt).toContain('<quote>');
    expect(prompt).toContain('Question: how do i reset my password, i forgot it');
    expect(final.content).toBe('Choose **Forgot your password?** on the sign-in page.');
    expect(final.extras.sources).toContainEqual(
      expect.objectContaining({ source: expect.stringContaining('user/profile/user_passwords.md') }),
    );
    // Sources are kept in the history too.
    const history = await graphqlRequest<{ aiMessages: { nodes: { extras: { sources: unknown[] } }[] } }>(
      runtime.baseUrl,
      '{ aiMessages(roles: [ASSISTANT]) { nodes { extras { sources } } } }',
      { token: developer.token },
    );
    expect(history.body.data?.aiMessages.nodes.at(-1)?.extras.sources.length).toBeGreaterThan(0);
  });

  it('does not search documentation for a question about a resource', async () => {
    const final = await ask('Summarize this issue', 'gid://gitlab/Issue/1');
    expect(fake.calls.at(-1)?.messages.at(-1)?.content).not.toContain('<quote>');
    expect(final.extras.sources).toEqual([]);
  });
});
