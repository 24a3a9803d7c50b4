// The floor for `npm run bench:e2e`: graphql-yoga + graphql-ws with the same schema shapes as the
// product and an in-process pub/sub, but no authentication, no queue, no Redis and no database.
// The mutation publishes the same chunks and final message the fake model would, then returns.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { useServer } from 'graphql-ws/use/ws';
import { createPubSub, createSchema, createYoga } from 'graphql-yoga';
import { WebSocketServer } from 'ws';
import { defaultFakeAnswer } from '../src/llm/providers/fake/fake-provider.ts';

const chunkSize = Number(process.env.FAKE_MODEL_CHUNK_SIZE ?? 12);
const pubsub = createPubSub<{ aiCompletionResponse: [key: string, message: Record<string, unknown>] }>();

const schema = createSchema({
  typeDefs: /* GraphQL */ `
    input AiChatInput { content: String!, resourceId: String }
    input AiActionInput { chat: AiChatInput, clientSubscriptionId: String, clientMutationId: String }
    type AiActionPayload { requestId: String, errors: [String!]!, clientMutationId: String }
    type AiMessageExtras { sources: [String], hasFeedback: Boolean, status: String }
    type AiMessage { id: ID, requestId: String, content: String, contentHtml: String, role: String!, timestamp: String!, errors: [String!], type: String, chunkId: Int, extras: AiMessageExtras }
    type Query { ok: Boolean }
    type Mutation { aiAction(input: AiActionInput!): AiActionPayload }
    type Subscription { aiCompletionResponse(userId: String, aiAction: String, clientSubscriptionId: String): AiMessage }
  `,
  resolvers: {
    Mutation: {
      aiAction: (_root: unknown, { input }: { input: { chat: { content: string }; clientSubscriptionId: string } }) => {
        const requestId = randomUUID();
        const text = defaultFakeAnswer({ messages: [{ role: 'user', content: input.chat.content }] });
        const key = input.clientSubscriptionId;
        const base = {
          requestId,
          role: 'ASSISTANT',
          errors: [],
          type: null,
          extras: { sources: [], hasFeedback: false, status: null },
        };
        let chunkId = 1;
        for (let offset = 0; offset < text.length; offset += chunkSize) {
          pubsub.publish('aiCompletionResponse', key, {
            ...base,
            id: randomUUID(),
            content: text.slice(offset, offset + chunkSize),
            contentHtml: null,
            chunkId: chunkId++,
            timestamp: new Date().toISOString(),
          });
        }
        pubsub.publish('aiCompletionResponse', key, {
          ...base,
          id: randomUUID(),
          content: text,
          contentHtml: `<p>${text}</p>`,
          chunkId: null,
          timestamp: new Date().toISOString(),
          extras: { ...base.extras, status: 'COMPLETED' },
        });
        return { requestId, errors: [], clientMutationId: null };
      },
    },
    Subscription: {
      aiCompletionResponse: {
        subscribe: (_root: unknown, args: { clientSubscriptionId: string }) =>
          pubsub.subscribe('aiCompletionResponse', args.clientSubscriptionId),
        resolve: (message: unknown) => message,
      },
    },
  },
});

const yoga = createYoga({
  schema,
  graphqlEndpoint: '/api/graphql',
  logging: false,
  landingPage: false,
  graphiql: false,
});
const server = createServer(yoga);
const webSocketServer = new WebSocketServer({ server, path: '/api/graphql' });
useServer(
  {
    execute: (args: { rootValue: { execute: (a: unknown) => unknown } }) => args.rootValue.execute(args),
    subscribe: (args: { rootValue: { subscribe: (a: unknown) => unknown } }) => args.rootValue.subscribe(args),
    onSubscribe: async (
      context: unknown,
      _id: string,
      payload: { query: string; variables?: Record<string, unknown>; operationName?: string },
    ) => {
      const enveloped = yoga.getEnveloped({
        ...(context as object),
        params: payload,
        request: new Request('http://localhost/api/graphql'),
      });
      const document = enveloped.parse(payload.query);
      return {
        schema: enveloped.schema,
        operationName: payload.operationName,
        document,
        variableValues: payload.variables,
        contextValue: await enveloped.contextFactory(),
        rootValue: { execute: enveloped.execute, subscribe: enveloped.subscribe },
      };
    },
  } as never,
  webSocketServer,
);
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(
    `${JSON.stringify({ msg: 'API listening (floor)', port: typeof address === 'object' && address ? address.port : 0 })}\n`,
  );
});
process.once('SIGTERM', () => process.exit(0));
