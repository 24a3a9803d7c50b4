import type { Client } from 'graphql-ws';
import type { ChatView, FeedbackOption } from './chat-view.ts';
import {
  type AiMessage,
  type ConnectionState,
  type CurrentUser,
  cancelMutation,
  chatHistoryQuery,
  chatMutation,
  createSubscriptionClient,
  feedbackMutation,
  GraphQLRequestError,
  graphqlFetch,
  responsesSubscription,
  resumeSubscription,
} from './graphql-api.ts';
import { randomUuid } from './random-uuid.ts';

/** Commands the server answers without a model: no answer is coming for them. */
const clearCommands = new Set(['/clear', '/clean']);
const resetCommand = '/reset';
/** An answer that shows no progress for this long is resumed from the request's log, in case a message was lost. */
const stallCheckMs = 8_000;
/** A question from history younger than this without an answer may still be running: resume it after a reload. */
const recentQuestionMs = 10 * 60 * 1_000;

interface AnswerStream {
  /** Text of chunks 1..shownThrough, in order. */
  text: string;
  shownThrough: number;
  /** Chunks that arrived ahead of a gap. */
  ahead: Map<number, string>;
  lastProgressAt: number;
  /** Ends the resume subscription, while one is open. */
  stopResume?: () => void;
  /** Found in history after a reload rather than sent by this tab: when it cannot be resumed, it is dropped. */
  fromHistory: boolean;
}

export interface ChatSessionOptions {
  token: string;
  user: CurrentUser;
  view: ChatView;
  onConnectionState(state: ConnectionState): void;
  /** The server no longer accepts the token. */
  onSignedOut(reason: string): void;
}

export interface ChatSession {
  /** This feature instance's id: chunks and tool notices of its own requests arrive on it. */
  readonly clientSubscriptionId: string;
  send(content: string, resourceId?: string): Promise<void>;
  cancel(requestId: string): Promise<void>;
  feedback(messageId: string, option: FeedbackOption): Promise<void>;
  close(): void;
}

/**
 * One signed-in chat: the two subscriptions GitLab's chat keeps open (every chat message of the user, for tab
 * sync; and this instance's `clientSubscriptionId`, for chunks and tool notices), opened at once and kept open,
 * because the server publishes only to subscribers that exist at that moment. A request whose stream has a gap,
 * stalls, or was running when the connection dropped is resumed with `requestId` + `lastChunkId`.
 */
export function startChatSession(options: ChatSessionOptions): ChatSession {
  const { token, user, view } = options;
  const clientSubscriptionId = randomUuid();
  const streams = new Map<string, AnswerStream>();
  const finished = new Set<string>();
  let closed = false;

  const client: Client = createSubscriptionClient({
    token,
    onState: (state) => {
      if (!closed) options.onConnectionState(state);
    },
    onConnected: (wasRetry) => {
      if (closed) return;
      // Whatever streamed while the socket was down is in the requests' logs.
      for (const requestId of streams.keys()) resume(requestId, true);
      if (wasRetry) void loadHistory();
    },
    onRefused: () => signOut('The server no longer accepts your token. Sign in again.'),
  });

  function signOut(reason: string): void {
    if (closed) return;
    close();
    options.onSignedOut(reason);
  }

  function streamFor(requestId: string, fromHistory = false): AnswerStream {
    let stream = streams.get(requestId);
    if (!stream) {
      stream = { text: '', shownThrough: 0, ahead: new Map(), lastProgressAt: Date.now(), fromHistory };
      streams.set(requestId, stream);
    }
    return stream;
  }

  function handle(message: AiMessage): void {
    if (closed || !message.requestId) return;
    if (message.chunkId !== null) {
      handleChunk(message.requestId, message.chunkId, message.content ?? '');
      return;
    }
    if (message.role === 'USER') {
      const content = (message.content ?? '').trim();
      if (clearCommands.has(content)) view.clear();
      else view.showUserMessage(message);
      return;
    }
    if (message.type === 'TOOL') {
      if (!finished.has(message.requestId)) view.showToolNotice(message.requestId, message.content ?? '');
      return;
    }
    if (message.role === 'ASSISTANT') finish(message);
  }

  function handleChunk(requestId: string, chunkId: number, content: string): void {
    if (finished.has(requestId)) return;
    const stream = streamFor(requestId);
    if (chunkId <= stream.shownThrough || stream.ahead.has(chunkId)) return;
    stream.ahead.set(chunkId, content);
    let advanced = false;
    for (let next = stream.ahead.get(stream.shownThrough + 1); next !== undefined; ) {
      stream.ahead.delete(stream.shownThrough + 1);
      stream.text += next;
      stream.shownThrough += 1;
      advanced = true;
      next = stream.ahead.get(stream.shownThrough + 1);
    }
    if (advanced) {
      stream.lastProgressAt = Date.now();
      view.showStreamingText(requestId, stream.text);
    }
    // Chunks arrive in order on one subscription: a gap means some were published before it listened.
    if (stream.ahead.size > 0) resume(requestId);
  }

  function finish(message: AiMessage): void {
    if (finished.has(message.requestId)) return;
    finished.add(message.requestId);
    const stream = streams.get(message.requestId);
    stream?.stopResume?.();
    streams.delete(message.requestId);
    view.showFinal(message);
  }

  /** Reads the request's log from the last chunk shown: the missing chunks, the live ones, then its final message. */
  function resume(requestId: string, restart = false): void {
    const stream = streams.get(requestId);
    if (!stream || finished.has(requestId)) return;
    if (stream.stopResume && !restart) return;
    stream.stopResume?.();
    const stop = client.subscribe<{ aiCompletionResponse: AiMessage | null }>(
      {
        query: resumeSubscription,
        variables: { userId: user.id, requestId, lastChunkId: stream.shownThrough },
      },
      {
        next: (result) => {
          if (result.data?.aiCompletionResponse) handle(result.data.aiCompletionResponse);
        },
        error: () => {
          if (stream.stopResume === stop) stream.stopResume = undefined;
          // Unknown to the server (forgotten, or never started): a question found in history has no answer coming.
          if (stream.fromHistory && stream.shownThrough === 0) {
            streams.delete(requestId);
            view.removePending(requestId);
          }
        },
        complete: () => {
          if (stream.stopResume === stop) stream.stopResume = undefined;
        },
      },
    );
    stream.stopResume = stop;
  }

  const stallTimer = setInterval(() => {
    const now = Date.now();
    for (const [requestId, stream] of streams) {
      if (now - stream.lastProgressAt > stallCheckMs) {
        stream.lastProgressAt = now;
        resume(requestId, true);
      }
    }
  }, stallCheckMs / 2);

  function listen(variables: Record<string, unknown>): () => void {
    return client.subscribe<{ aiCompletionResponse: AiMessage | null }>(
      { query: responsesSubscription, variables },
      {
        next: (result) => {
          if (result.data?.aiCompletionResponse) handle(result.data.aiCompletionResponse);
        },
        error: (error) => {
          if (!closed) view.showError(`Live updates stopped: ${describe(error)}`);
        },
        complete: () => undefined,
      },
    );
  }

  // Opened at sign-in and kept open, before any question is sent.
  const stopTabSync = listen({ userId: user.id, aiAction: 'CHAT' });
  const stopOwnStream = listen({ userId: user.id, aiAction: 'CHAT', clientSubscriptionId });

  /** History (oldest first): shows what is not on the page yet, and resumes recent questions without an answer. */
  async function loadHistory(first = false): Promise<void> {
    let nodes: AiMessage[];
    try {
      nodes = (await graphqlFetch<{ aiMessages: { nodes: AiMessage[] } }>(chatHistoryQuery, {}, token)).aiMessages
        .nodes;
    } catch (error) {
      if (error instanceof GraphQLRequestError && error.code === 'UNAUTHENTICATED') signOut(error.message);
      else view.showError(`Could not load the conversation: ${describe(error)}`);
      return;
    }
    if (closed) return;
    const answered = new Set(nodes.filter((node) => node.role === 'ASSISTANT').map((node) => node.requestId));
    for (const node of nodes) {
      handle(node);
      const content = (node.content ?? '').trim();
      const recent = Date.now() - new Date(node.timestamp).getTime() < recentQuestionMs;
      if (
        node.role === 'USER' &&
        !answered.has(node.requestId) &&
        !finished.has(node.requestId) &&
        !streams.has(node.requestId) &&
        recent &&
        content !== resetCommand &&
        !clearCommands.has(content)
      ) {
        streamFor(node.requestId, true);
        view.showPending(node.requestId);
        resume(node.requestId);
      }
    }
    if (first) view.scrollToEnd();
  }
  void loadHistory(true);

  function close(): void {
    if (closed) return;
    closed = true;
    clearInterval(stallTimer);
    for (const stream of streams.values()) stream.stopResume?.();
    stopTabSync();
    stopOwnStream();
    void client.dispose();
  }

  async function mutate<T>(query: string, variables: Record<string, unknown>): Promise<T> {
    try {
      return await graphqlFetch<T>(query, variables, token);
    } catch (error) {
      if (error instanceof GraphQLRequestError && error.code === 'UNAUTHENTICATED') signOut(error.message);
      throw error;
    }
  }

  return {
    clientSubscriptionId,
    async send(content, resourceId) {
      const text = content.trim();
      if (text === '') return;
      view.scrollToEnd();
      const input = {
        chat: { content: text, ...(resourceId ? { resourceId } : {}) },
        clientSubscriptionId,
      };
      let payload: { requestId: string | null; errors: string[] };
      try {
        payload = (await mutate<{ aiAction: typeof payload }>(chatMutation, { input })).aiAction;
      } catch (error) {
        view.showError(describe(error));
        return;
      }
      if (payload.errors.length > 0) view.showError(payload.errors.join(' '));
      const command = text.split(/\s/, 1)[0] ?? '';
      if (!payload.requestId || clearCommands.has(command) || command === resetCommand) return;
      if (finished.has(payload.requestId)) return;
      streamFor(payload.requestId);
      view.showPending(payload.requestId);
    },
    async cancel(requestId) {
      const result = await mutate<{ aiCancel: { errors: string[] | null } | null }>(cancelMutation, { requestId });
      const errors = result.aiCancel?.errors ?? [];
      if (errors.length > 0) throw new Error(errors.join(' '));
    },
    async feedback(messageId, option) {
      const result = await mutate<{ duoUserFeedback: { errors: string[] } }>(feedbackMutation, {
        input: { aiMessageId: messageId, selectedFeedbackOptions: [option] },
      });
      if (result.duoUserFeedback.errors.length > 0) throw new Error(result.duoUserFeedback.errors.join(' '));
    },
    close,
  };
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (Array.isArray(error)) {
    const [first] = error as { message?: string }[];
    if (first?.message) return first.message;
  }
  if (typeof error === 'object' && error !== null && 'reason' in error) return String(error.reason || 'closed');
  return 'unknown error';
}
