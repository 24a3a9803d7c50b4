import { type Client, createClient } from 'graphql-ws';

/** An `AiMessage` as the API sends it (enums in SCREAMING_SNAKE). */
export interface AiMessage {
  id: string;
  requestId: string;
  content: string | null;
  /** The server's sanitized HTML of a final message; null on chunks, tool notices and errored answers. */
  contentHtml: string | null;
  role: 'USER' | 'ASSISTANT' | 'SYSTEM';
  timestamp: string;
  errors: string[] | null;
  type: 'TOOL' | null;
  chunkId: number | null;
  extras: {
    sources: unknown[] | null;
    hasFeedback: boolean | null;
    status: 'COMPLETED' | 'ERROR' | 'CANCELLED' | 'EXPIRED' | null;
    model: string | null;
  } | null;
}

export interface CurrentUser {
  /** `gid://gitlab/User/<id>`: the `userId` of every subscription. */
  id: string;
  name: string;
  username: string;
}

const messageFields =
  'id requestId content contentHtml role timestamp errors type chunkId extras { sources hasFeedback status model }';

export const currentUserQuery = 'query currentUser { currentUser { id name username } }';
export const chatHistoryQuery = `query aiMessages { aiMessages { nodes { ${messageFields} } } }`;
export const chatMutation =
  'mutation aiAction($input: AiActionInput!) { aiAction(input: $input) { requestId errors } }';
export const cancelMutation = 'mutation aiCancel($requestId: ID!) { aiCancel(requestId: $requestId) { errors } }';
export const feedbackMutation =
  'mutation duoUserFeedback($input: DuoUserFeedbackInput!) { duoUserFeedback(input: $input) { errors } }';
/** Every chat message of the user (tab sync), or, with `clientSubscriptionId`, this tab's stream. */
export const responsesSubscription = `subscription aiCompletionResponse($userId: UserID, $aiAction: AiAction, $clientSubscriptionId: String) {
  aiCompletionResponse(userId: $userId, aiAction: $aiAction, clientSubscriptionId: $clientSubscriptionId) { ${messageFields} }
}`;
/** One request's chunks after `lastChunkId`, then its final message (which ends the subscription). */
export const resumeSubscription = `subscription resumeAiCompletion($userId: UserID, $requestId: ID, $lastChunkId: Int) {
  aiCompletionResponse(userId: $userId, requestId: $requestId, lastChunkId: $lastChunkId) { ${messageFields} }
}`;

/** A refused GraphQL request, with the server's words (they are written for users) and its `extensions.code`. */
export class GraphQLRequestError extends Error {
  override name = 'GraphQLRequestError';
  readonly code: string | undefined;

  constructor(message: string, code?: string) {
    super(message);
    this.code = code;
  }
}

interface GraphQLBody<T> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

/** Queries and mutations go over HTTP with the token as a bearer header; never in the URL. */
export async function graphqlFetch<T>(query: string, variables: Record<string, unknown>, token: string): Promise<T> {
  let response: Response;
  try {
    response = await fetch('/api/graphql', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json',
        authorization: `Bearer ${token}`,
      },
      body: JSON.stringify({ query, variables }),
    });
  } catch {
    throw new GraphQLRequestError('Could not reach the server. Check your connection and try again.', 'NETWORK');
  }
  let body: GraphQLBody<T>;
  try {
    body = (await response.json()) as GraphQLBody<T>;
  } catch {
    throw new GraphQLRequestError(`The server answered ${response.status} without a GraphQL response.`);
  }
  const [error] = body.errors ?? [];
  if (error) throw new GraphQLRequestError(error.message, error.extensions?.code);
  if (!body.data) throw new GraphQLRequestError('The server answered without data.');
  return body.data;
}

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting';

export interface SubscriptionClientOptions {
  token: string;
  onState(state: ConnectionState): void;
  /** After every successful connection; `wasRetry` after a drop (subscriptions were re-sent by graphql-ws). */
  onConnected(wasRetry: boolean): void;
  /** The server refused the token (close code 4403): retrying cannot help. */
  onRefused(): void;
}

/** Close code graphql-ws uses when the server refuses `connection_init` (our server: a bad or expired token). */
const forbiddenCloseCode = 4403;
/** How long a ping may go unanswered before the socket counts as dead (a half-open TCP connection after a drop). */
const pongTimeoutMs = 5_000;

function isCloseEvent(value: unknown): value is CloseEvent {
  return typeof value === 'object' && value !== null && 'code' in value;
}

/**
 * The graphql-ws client for subscriptions. The token travels in `connectionParams`, as for every graphql-ws
 * client of the API. It connects at once, retries forever with capped backoff (graphql-ws re-sends the active
 * subscriptions after each reconnect), and pings every 10 s so a silently dead connection is noticed and replaced.
 */
export function createSubscriptionClient(options: SubscriptionClientOptions): Client {
  const url = new URL('/api/graphql', window.location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  let pongTimer: ReturnType<typeof setTimeout> | undefined;
  let socket: WebSocket | undefined;
  return createClient({
    url: url.href,
    connectionParams: { authorization: `Bearer ${options.token}` },
    lazy: false,
    keepAlive: 10_000,
    retryAttempts: Number.POSITIVE_INFINITY,
    // 0.5 s, 1 s, 2 s … capped at 8 s, with jitter so a restarted server is not hit by every tab at once.
    retryWait: (retries) =>
      new Promise((resolve) => setTimeout(resolve, Math.min(500 * 2 ** retries, 8_000) + Math.random() * 300)),
    shouldRetry: (event) => !(isCloseEvent(event) && event.code === forbiddenCloseCode),
    onNonLazyError: () => undefined,
    on: {
      connecting: (isRetry) => options.onState(isRetry ? 'reconnecting' : 'connecting'),
      opened: (opened) => {
        socket = opened as WebSocket;
      },
      connected: (_socket, _payload, wasRetry) => {
        options.onState('connected');
        options.onConnected(wasRetry);
      },
      ping: (received) => {
        if (received) return;
        pongTimer = setTimeout(() => {
          if (socket?.readyState === WebSocket.OPEN) socket.close(4408, 'Request Timeout');
        }, pongTimeoutMs);
      },
      pong: (received) => {
        if (received) clearTimeout(pongTimer);
      },
      closed: (event) => {
        clearTimeout(pongTimer);
        if (isCloseEvent(event) && event.code === forbiddenCloseCode) options.onRefused();
        else options.onState('reconnecting');
      },
    },
  });
}
