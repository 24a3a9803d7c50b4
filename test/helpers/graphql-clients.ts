import { randomUUID } from 'node:crypto';
import { createClient as createSseClient } from 'graphql-sse';
import { type Client, createClient as createWsClient } from 'graphql-ws';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { channelFor, type SubscriptionArguments } from '../../src/pubsub.ts';

/** An `AiMessage` as a GraphQL client receives it: enums in SCREAMING_SNAKE. */
export interface AiMessage {
  id: string;
  requestId: string;
  content: string;
  contentHtml: string | null;
  role: 'USER' | 'ASSISTANT' | 'SYSTEM';
  timestamp: string;
  errors: string[];
  type: 'TOOL' | null;
  chunkId: number | null;
  extras: { sources: unknown[]; hasFeedback: boolean; status: 'COMPLETED' | 'ERROR' | null; model: string | null };
}

/** The final (non-chunk) assistant message of a request. */
export function isFinalAnswer(requestId?: string) {
  return (message: AiMessage) =>
    message.chunkId === null &&
    message.role === 'ASSISTANT' &&
    (requestId === undefined || message.requestId === requestId);
}

export interface GraphQLResponse<T = Record<string, unknown>> {
  status: number;
  body: { data?: T; errors?: { message: string; extensions?: Record<string, unknown> }[] };
}

export async function graphqlRequest<T = Record<string, unknown>>(
  baseUrl: string,
  query: string,
  options: { variables?: Record<string, unknown>; token?: string; headers?: Record<string, string> } = {},
): Promise<GraphQLResponse<T>> {
  const response = await fetch(`${baseUrl}/api/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
    body: JSON.stringify({ query, variables: options.variables ?? {} }),
  });
  return { status: response.status, body: (await response.json()) as GraphQLResponse<T>['body'] };
}

export const aiCompletionResponseSubscription = /* GraphQL */ `
  subscription aiCompletionResponse($userId: UserID, $resourceId: AiModelID, $clientSubscriptionId: String, $aiAction: AiAction, $requestId: ID, $lastChunkId: Int) {
    aiCompletionResponse(userId: $userId, resourceId: $resourceId, clientSubscriptionId: $clientSubscriptionId, aiAction: $aiAction, requestId: $requestId, lastChunkId: $lastChunkId) {
      id requestId content contentHtml role timestamp errors type chunkId extras { sources hasFeedback status model }
    }
  }
`;

export function connectWebSocketClient(baseUrl: string, token?: string, options: { lazy?: boolean } = {}): Client {
  return createWsClient({
    url: `${baseUrl.replace(/^http/, 'ws')}/api/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    lazy: options.lazy ?? true,
    retryAttempts: 0,
  });
}

/** Collects the messages of one subscription and lets a test wait for a particular one. */
export class MessageCollector {
  readonly messages: AiMessage[] = [];
  readonly errors: unknown[] = [];
  private readonly waiters: { predicate: (message: AiMessage) => boolean; resolve: (message: AiMessage) => void }[] =
    [];
  private readonly errorWaiters: ((error: unknown) => void)[] = [];
  onStop: () => void = () => undefined;

  push(message: AiMessage): void {
    this.messages.push(message);
    for (const waiter of [...this.waiters]) {
      if (waiter.predicate(message)) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(message);
      }
    }
  }

  fail(error: unknown): void {
    this.errors.push(error);
    for (const waiter of this.errorWaiters.splice(0)) waiter(error);
  }

  waitFor(predicate: (message: AiMessage) => boolean, timeoutMs = 10_000): Promise<AiMessage> {
    const found = this.messages.find(predicate);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `timed out waiting for a message; got ${JSON.stringify(this.messages).slice(0, 500)}; errors ${JSON.stringify(this.errors)}`,
            ),
          ),
        timeoutMs,
      );
      this.waiters.push({
        predicate,
        resolve: (message) => {
          clearTimeout(timer);
          resolve(message);
        },
      });
    });
  }

  /** Resolves with the first error the subscription reports (a refused subscription). */
  waitForError(timeoutMs = 10_000): Promise<unknown> {
    if (this.errors.length > 0) return Promise.resolve(this.errors[0]);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for a subscription error')), timeoutMs);
      this.errorWaiters.push((error) => {
        clearTimeout(timer);
        resolve(error);
      });
    });
  }

  stop(): void {
    this.onStop();
  }
}

function sink(collector: MessageCollector) {
  return {
    next: (result: { data?: { aiCompletionResponse?: AiMessage | null } | null; errors?: readonly unknown[] }) => {
      if (result.errors) collector.fail(result.errors);
      if (result.data?.aiCompletionResponse) collector.push(result.data.aiCompletionResponse);
    },
    error: (error: unknown) => collector.fail(error),
    complete: () => undefined,
  };
}

export function subscribeOverWebSocket(
  client: Client,
  variables: SubscriptionArguments & Record<string, unknown>,
): MessageCollector {
  const collector = new MessageCollector();
  collector.onStop = client.subscribe({ query: aiCompletionResponseSubscription, variables }, sink(collector) as never);
  return collector;
}

export function subscribeOverSse(
  baseUrl: string,
  token: string,
  variables: SubscriptionArguments & Record<string, unknown>,
): MessageCollector {
  const collector = new MessageCollector();
  const client = createSseClient({
    url: `${baseUrl}/api/graphql`,
    headers: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
  });
  const unsubscribe = client.subscribe(
    { query: aiCompletionResponseSubscription, variables },
    sink(collector) as never,
  );
  collector.onStop = () => {
    unsubscribe();
    client.dispose();
  };
  return collector;
}

/**
 * Waits until `count` subscribers listen on the Redis channel of an argument set, so a test sends
 * its mutation only once the subscription is really in place.
 */
export async function waitForSubscribers(
  redisUrl: string,
  prefix: string,
  argumentSet: SubscriptionArguments,
  count = 1,
  timeoutMs = 10_000,
): Promise<void> {
  const redis = new Redis(redisUrl);
  redis.on('error', () => undefined);
  const channel = channelFor(prefix, argumentSet);
  const deadline = Date.now() + timeoutMs;
  try {
    while (Date.now() < deadline) {
      const [, subscribers] = (await redis.pubsub('NUMSUB', channel)) as [string, number];
      if (Number(subscribers) >= count) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`no subscriber on ${channel} after ${timeoutMs} ms`);
  } finally {
    redis.disconnect();
  }
}

export interface ActionRun {
  requestId: string;
  /** The mutation's `errors` list (empty when accepted). */
  errors: string[];
  /** GraphQL-level errors of the mutation, when it was refused outright. */
  graphqlErrors: GraphQLResponse['body']['errors'];
  final: AiMessage;
  collector: MessageCollector;
}

/**
 * Subscribes to `{userId, aiAction, clientSubscriptionId}`, waits until the subscription is in place,
 * sends the `aiAction` mutation with `input` and resolves with the request's final message.
 */
export async function runActionThroughSubscription(options: {
  baseUrl: string;
  client: Client;
  prefix: string;
  redisUrl: string;
  user: { gid: string; token: string };
  actionName: string;
  input: Record<string, unknown>;
  timeoutMs?: number;
}): Promise<ActionRun> {
  const clientSubscriptionId = randomUUID();
  const collector = subscribeOverWebSocket(options.client, {
    userId: options.user.gid,
    aiAction: options.actionName.toUpperCase(),
    clientSubscriptionId,
  });
  await waitForSubscribers(options.redisUrl, options.prefix, {
    userId: options.user.gid,
    aiAction: options.actionName,
    clientSubscriptionId,
  });
  const response = await graphqlRequest<{ aiAction: { requestId: string; errors: string[] } }>(
    options.baseUrl,
    'mutation ($input: AiActionInput!) { aiAction(input: $input) { requestId errors } }',
    { token: options.user.token, variables: { input: { ...options.input, clientSubscriptionId } } },
  );
  const requestId = response.body.data?.aiAction.requestId as string;
  const final = await collector.waitFor(isFinalAnswer(requestId), options.timeoutMs ?? 15_000);
  collector.stop();
  return {
    requestId,
    errors: response.body.data?.aiAction.errors ?? [],
    graphqlErrors: response.body.errors,
    final,
    collector,
  };
}
