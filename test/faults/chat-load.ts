import { randomUUID } from 'node:crypto';
import type { Client } from 'graphql-ws';
import {
  type AiMessage,
  graphqlRequest,
  isFinalAnswer,
  subscribeOverWebSocket,
  waitForSubscribers,
} from '../helpers/graphql-clients.ts';

/** What happened to one request, as its client saw it. */
export interface RequestOutcome {
  requestId?: string;
  /** The mutation's clean refusal (an error message), when it was refused. */
  refused?: string;
  chunkIds: number[];
  /** Distinct final messages received (more than one is a duplicate). */
  finals: AiMessage[];
  /** The live subscription missed the end and the client resumed with requestId + lastChunkId. */
  resumed: boolean;
}

export interface LoadFigures {
  sent: number;
  refused: number;
  accepted: number;
  completed: number;
  errored: number;
  /** Accepted requests that never got a final message, even after resuming. */
  lost: number;
  duplicateFinals: number;
  /** Requests whose chunk ids were not exactly 1..n in order. */
  brokenStreams: number;
  resumed: number;
}

export interface ChatLoadOptions {
  /** The API that takes mutations (and, unless `subscribeBaseUrl` differs, subscriptions). */
  baseUrl: string;
  /** graphql-ws clients; request i uses client i % clients.length. */
  clients: Client[];
  /** Makes a fresh client for resuming (the old socket may be the thing that broke). */
  reconnect: () => Client;
  user: { gid: string; token: string };
  redisUrl: string;
  prefix: string;
  count: number;
  concurrency: number;
  content: (index: number) => string;
  /** How long to wait for the final on the live subscription before resuming. */
  finalTimeoutMs: number;
  /** Pause of each lane between two requests (spreads a run over time). */
  pauseMs?: number;
  /** Called after each request ends (for injecting a fault at the right moment). */
  onSettled?: (settledCount: number) => void;
}

async function resume(
  client: Client,
  user: { gid: string },
  requestId: string,
  lastChunkId: number,
  timeoutMs: number,
) {
  const collector = subscribeOverWebSocket(client, { userId: user.gid, requestId, lastChunkId });
  try {
    await collector.waitFor(isFinalAnswer(requestId), timeoutMs);
  } catch {
    // lost: counted by the caller
  } finally {
    collector.stop();
  }
  return collector.messages;
}

function messageOf(error: unknown): string {
  const first = Array.isArray(error) ? error[0] : error;
  if (typeof first === 'object' && first !== null && 'message' in first) return String(first.message);
  if (typeof first === 'object' && first !== null && 'reason' in first) return `socket closed: ${String(first.reason)}`;
  return JSON.stringify(first);
}

async function runOne(options: ChatLoadOptions, index: number): Promise<RequestOutcome> {
  const client = options.clients[index % options.clients.length] as Client;
  const clientSubscriptionId = randomUUID();
  const collector = subscribeOverWebSocket(client, {
    userId: options.user.gid,
    aiAction: 'CHAT',
    clientSubscriptionId,
  });
  const outcome: RequestOutcome = { chunkIds: [], finals: [], resumed: false };
  try {
    // A subscription the server refuses (or that never starts) is the request's refusal: a client would not send.
    const subscribed = await Promise.race([
      waitForSubscribers(options.redisUrl, options.prefix, {
        userId: options.user.gid,
        aiAction: 'chat',
        clientSubscriptionId,
      }).then(
        () => undefined,
        (error: unknown) => String(error),
      ),
      collector.waitForError(15_000).then(
        (error) => messageOf(error),
        () => 'the subscription never started',
      ),
    ]);
    if (subscribed !== undefined) {
      outcome.refused = `subscription: ${subscribed}`;
      return outcome;
    }
    const response = await graphqlRequest<{ aiAction: { requestId: string; errors: string[] } }>(
      options.baseUrl,
      'mutation ($content: String!, $id: String) { aiAction(input: { chat: { content: $content }, clientSubscriptionId: $id }) { requestId errors } }',
      { token: options.user.token, variables: { content: options.content(index), id: clientSubscriptionId } },
    ).catch((error: unknown) => ({ status: 0, body: { errors: [{ message: String(error) }] } }) as never);
    const requestId = (response as { body: { data?: { aiAction: { requestId: string } | null } | null } }).body.data
      ?.aiAction?.requestId;
    if (!requestId) {
      outcome.refused = response.body.errors?.[0]?.message ?? `HTTP ${response.status}`;
      return outcome;
    }
    outcome.requestId = requestId;
    let messages: AiMessage[];
    try {
      await collector.waitFor(isFinalAnswer(requestId), options.finalTimeoutMs);
      messages = collector.messages;
    } catch {
      // As a client whose socket broke: the live subscription is gone; resume from the last chunk seen.
      collector.stop();
      const seen = collector.messages.filter((message) => message.requestId === requestId && message.chunkId !== null);
      const lastChunkId = Math.max(0, ...seen.map((message) => message.chunkId ?? 0));
      outcome.resumed = true;
      const fresh = options.reconnect();
      const resumed = await resume(fresh, options.user, requestId, lastChunkId, options.finalTimeoutMs * 2);
      await fresh.dispose();
      messages = [...collector.messages, ...resumed];
    }
    for (const message of messages) {
      if (message.requestId !== requestId) continue;
      if (message.chunkId !== null) outcome.chunkIds.push(message.chunkId);
      else if (message.role === 'ASSISTANT' && !outcome.finals.some((final) => final.id === message.id)) {
        outcome.finals.push(message);
      }
    }
    // Late duplicates would arrive just after the final: give them a moment to show up.
    await new Promise((resolve) => setTimeout(resolve, 50));
    for (const message of collector.messages) {
      if (message.requestId === requestId && isFinalAnswer(requestId)(message)) {
        if (!outcome.finals.some((final) => final.id === message.id)) outcome.finals.push(message);
      }
    }
    return outcome;
  } finally {
    collector.stop();
  }
}

/** Sends `count` chat requests, `concurrency` at a time, and records what each client saw. */
export async function runChatLoad(options: ChatLoadOptions): Promise<RequestOutcome[]> {
  const outcomes: RequestOutcome[] = new Array(options.count);
  let next = 0;
  let settled = 0;
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (next < options.count) {
        const index = next++;
        outcomes[index] = await runOne(options, index);
        settled += 1;
        options.onSettled?.(settled);
        if (options.pauseMs) await new Promise((resolve) => setTimeout(resolve, options.pauseMs));
      }
    }),
  );
  return outcomes;
}

export function figuresOf(outcomes: RequestOutcome[]): LoadFigures {
  const accepted = outcomes.filter((outcome) => outcome.requestId !== undefined);
  return {
    sent: outcomes.length,
    refused: outcomes.length - accepted.length,
    accepted: accepted.length,
    completed: accepted.filter((outcome) => outcome.finals[0]?.extras.status === 'COMPLETED').length,
    errored: accepted.filter((outcome) => outcome.finals[0]?.extras.status === 'ERROR').length,
    lost: accepted.filter((outcome) => outcome.finals.length === 0).length,
    duplicateFinals: accepted.filter((outcome) => outcome.finals.length > 1).length,
    brokenStreams: accepted.filter((outcome) => {
      const ids = [...new Set(outcome.chunkIds)];
      return ids.length !== outcome.chunkIds.length || ids.some((id, position) => id !== position + 1);
    }).length,
    resumed: accepted.filter((outcome) => outcome.resumed).length,
  };
}

/** One line per fault for the log, and a Markdown row for the closing note. */
export function printFigures(fault: string, injected: string, figures: LoadFigures): void {
  console.log(
    `| ${fault} | ${injected} | ${figures.sent} | ${figures.accepted} | ${figures.refused} | ${figures.completed} | ${figures.errored} | ${figures.resumed} | ${figures.lost} | ${figures.duplicateFinals} | ${figures.brokenStreams} |`,
  );
}
