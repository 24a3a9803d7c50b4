import type { ServerResponse } from 'node:http';
import {
  type BehaviourScript,
  createBehaviourScript,
  cutConnection,
  numberAfter,
  pause,
  type RecordedRequest,
  type StandinServer,
  splitIntoDeltas,
  startStandinServer,
  writeJson,
} from './standin-server.ts';

/**
 * What the stand-in does with one `POST /v1/messages`. Chosen from the test script first, then from the model
 * name (see {@link behaviourForModel}), so a test can switch behaviour without touching the server.
 */
export type AnthropicBehaviour =
  /** A normal answer; `deltas` are the streamed text pieces (the default echoes the last user turn). */
  | { kind: 'reply'; deltas?: string[]; delayMs?: number }
  /** An HTTP error with Anthropic's JSON error body (`{type:"error",error:{type,message}}`). */
  | { kind: 'error'; status: number; errorType: string; headers?: Record<string, string> }
  /** Accepts the request and never answers: the test's client must abort (recorded as `aborted`). */
  | { kind: 'hang' }
  /** Streams `afterDeltas` deltas, then destroys the TCP connection. */
  | { kind: 'cut'; afterDeltas: number; deltaCount?: number }
  /** Streams `afterDeltas` deltas, then an `event: error` frame (HTTP status already 200) and ends. */
  | { kind: 'stream-error'; afterDeltas: number; errorType: string };

export interface AnthropicStandin extends StandinServer {
  readonly script: BehaviourScript<AnthropicBehaviour>;
  /** The `POST /v1/messages` requests only. */
  messageRequests(): RecordedRequest[];
}

const errorTypeByStatus: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  429: 'rate_limit_error',
  500: 'api_error',
  503: 'api_error',
  504: 'timeout_error',
  529: 'overloaded_error',
};

/**
 * Model-name switches, so any client (even one the test does not control) can ask for a failure:
 * `fail-<status>` (429 carries `retry-after: 1` and `retry-after-ms: 20`; 529 carries `x-should-retry: false`),
 * `hang`, `cut-after-<n>`, `stream-error-after-<n>` (an `overloaded_error` frame), `deltas-<n>` (n numbered
 * deltas), `slow-<ms>` (a pause before each delta). Anything else is a normal answer.
 */
export function behaviourForModel(model: string): AnthropicBehaviour {
  const status = numberAfter(model, 'fail');
  if (status !== undefined) {
    const headers: Record<string, string> =
      status === 429
        ? { 'retry-after': '1', 'retry-after-ms': '20' }
        : status === 529
          ? { 'retry-after': '1', 'x-should-retry': 'false' }
          : {};
    return { kind: 'error', status, errorType: errorTypeByStatus[status] ?? 'api_error', headers };
  }
  if (model === 'hang' || model.startsWith('hang-')) return { kind: 'hang' };
  const cutAfter = numberAfter(model, 'cut-after');
  if (cutAfter !== undefined) return { kind: 'cut', afterDeltas: cutAfter, deltaCount: cutAfter + 50 };
  const errorAfter = numberAfter(model, 'stream-error-after');
  if (errorAfter !== undefined) return { kind: 'stream-error', afterDeltas: errorAfter, errorType: 'overloaded_error' };
  const deltaCount = numberAfter(model, 'deltas');
  const delayMs = numberAfter(model, 'slow');
  return {
    kind: 'reply',
    ...(deltaCount === undefined ? {} : { deltas: numberedDeltas(deltaCount) }),
    ...(delayMs === undefined ? {} : { delayMs }),
  };
}

export function numberedDeltas(count: number): string[] {
  return Array.from({ length: count }, (_, index) => `d${index} `);
}

interface MessagesBody {
  model: string;
  maxTokens: number;
  stream: boolean;
  stopSequences: string[];
  promptCharacters: number;
  lastUserText: string;
}

function readMessagesBody(body: unknown): MessagesBody | string {
  if (typeof body !== 'object' || body === null) return 'The request body must be a JSON object.';
  const record = body as Record<string, unknown>;
  if (typeof record.model !== 'string') return 'model: Field required';
  if (typeof record.max_tokens !== 'number') return 'max_tokens: Field required';
  if (!Array.isArray(record.messages) || record.messages.length === 0) return 'messages: Field required';
  let promptCharacters = typeof record.system === 'string' ? record.system.length : 0;
  let lastUserText = '';
  for (const message of record.messages as unknown[]) {
    const content = typeof message === 'object' && message !== null ? (message as Record<string, unknown>).content : '';
    const text = typeof content === 'string' ? content : JSON.stringify(content);
    promptCharacters += text.length;
    if ((message as Record<string, unknown>).role === 'user') lastUserText = text;
  }
  const stopSequences = Array.isArray(record.stop_sequences)
    ? record.stop_sequences.filter((value): value is string => typeof value === 'string')
    : [];
  return {
    model: record.model,
    maxTokens: record.max_tokens,
    stream: record.stream === true,
    stopSequences,
    promptCharacters,
    lastUserText,
  };
}

/** Applies `max_tokens` (one delta counts as one token) and `stop_sequences` the way the API reports them. */
function shapeAnswer(deltas: string[], body: MessagesBody) {
  let shaped = deltas;
  let stopReason = 'end_turn';
  let stopSequence: string | null = null;
  const joined = deltas.join('');
  let cutAt = -1;
  for (const sequence of body.stopSequences) {
    const index = joined.indexOf(sequence);
    if (index !== -1 && (cutAt === -1 || index < cutAt)) {
      cutAt = index;
      stopSequence = sequence;
    }
  }
  if (cutAt !== -1) {
    shaped = [];
    let consumed = 0;
    for (const delta of deltas) {
      if (consumed >= cutAt) break;
      shaped.push(delta.slice(0, cutAt - consumed));
      consumed += delta.length;
    }
    shaped = shaped.filter((delta) => delta !== '');
    stopReason = 'stop_sequence';
  }
  if (shaped.length > body.maxTokens) {
    shaped = shaped.slice(0, body.maxTokens);
    stopReason = 'max_tokens';
    stopSequence = null;
  }
  return { deltas: shaped, stopReason, stopSequence };
}

function writeEvent(response: ServerResponse, type: string, data: Record<string, unknown>): void {
  // The SDK drops frames without an `event:` line, so every frame carries one, as the real API's do.
  response.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
}

let messageCounter = 0;

/** A loopback stand-in for the Anthropic Messages API (`POST /v1/messages`), streaming and not. */
export async function startAnthropicStandin(): Promise<AnthropicStandin> {
  const script = createBehaviourScript<AnthropicBehaviour>();

  async function handle(request: RecordedRequest, response: ServerResponse): Promise<void> {
    const requestId = `req_standin_${++messageCounter}`;
    if (request.method !== 'POST' || request.path !== '/v1/messages') {
      writeJson(response, 404, errorBody('not_found_error', `No route for ${request.method} ${request.path}`), {
        'request-id': requestId,
      });
      return;
    }
    // SDK 1.x sends `Authorization: Bearer`, 0.x and curl users send `x-api-key`: accept both.
    const authorization = request.headers.authorization;
    const apiKey = request.headers['x-api-key'];
    const hasKey =
      (typeof apiKey === 'string' && apiKey !== '') ||
      (typeof authorization === 'string' && /^Bearer \S+/.test(authorization));
    if (!hasKey) {
      writeJson(response, 401, errorBody('authentication_error', 'x-api-key header is required'), {
        'request-id': requestId,
      });
      return;
    }
    const body = readMessagesBody(request.body);
    if (typeof body === 'string') {
      writeJson(response, 400, errorBody('invalid_request_error', body), { 'request-id': requestId });
      return;
    }
    const behaviour = script.next() ?? behaviourForModel(body.model);
    const messageId = `msg_standin_${messageCounter}`;
    const inputTokens = Math.max(1, Math.ceil(body.promptCharacters / 4));

    if (behaviour.kind === 'error') {
      writeJson(response, behaviour.status, errorBody(behaviour.errorType, `Stand-in ${behaviour.errorType}`), {
        'request-id': requestId,
        ...behaviour.headers,
      });
      return;
    }
    if (behaviour.kind === 'hang') return; // the client's abort closes the connection; `aborted` records it.

    const baseDeltas =
      behaviour.kind === 'reply' && behaviour.deltas
        ? behaviour.deltas
        : behaviour.kind === 'cut'
          ? numberedDeltas(behaviour.deltaCount ?? behaviour.afterDeltas + 50)
          : behaviour.kind === 'stream-error'
            ? numberedDeltas(behaviour.afterDeltas + 50)
            : splitIntoDeltas(`Stand-in answer to: ${body.lastUserText}`);
    const answer = shapeAnswer(baseDeltas, body);

    if (!body.stream) {
      if (behaviour.kind === 'cut') {
        cutConnection(request, response);
        return;
      }
      writeJson(
        response,
        200,
        {
          id: messageId,
          type: 'message',
          role: 'assistant',
          model: body.model,
          content: [{ type: 'text', text: answer.deltas.join('') }],
          stop_reason: answer.stopReason,
          stop_sequence: answer.stopSequence,
          usage: { input_tokens: inputTokens, output_tokens: answer.deltas.length },
        },
        { 'request-id': requestId },
      );
      return;
    }

    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'request-id': requestId,
    });
    writeEvent(response, 'message_start', {
      message: {
        id: messageId,
        type: 'message',
        role: 'assistant',
        content: [],
        model: body.model,
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: inputTokens, output_tokens: 1 },
      },
    });
    writeEvent(response, 'content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
    writeEvent(response, 'ping', {});
    const delayMs = behaviour.kind === 'reply' ? (behaviour.delayMs ?? 0) : 0;
    for (const [index, delta] of answer.deltas.entries()) {
      if (behaviour.kind === 'cut' && index === behaviour.afterDeltas) {
        cutConnection(request, response);
        return;
      }
      if (behaviour.kind === 'stream-error' && index === behaviour.afterDeltas) {
        writeEvent(response, 'error', {
          error: { type: behaviour.errorType, message: `Stand-in ${behaviour.errorType}` },
        });
        response.end();
        return;
      }
      await pause(delayMs, response);
      if (response.destroyed) return;
      writeEvent(response, 'content_block_delta', { index: 0, delta: { type: 'text_delta', text: delta } });
    }
    writeEvent(response, 'content_block_stop', { index: 0 });
    writeEvent(response, 'message_delta', {
      delta: { stop_reason: answer.stopReason, stop_sequence: answer.stopSequence },
      usage: { output_tokens: answer.deltas.length },
    });
    writeEvent(response, 'message_stop', {});
    response.end();
  }

  const server = await startStandinServer(handle);
  return {
    url: server.url,
    requests: server.requests,
    close: server.close,
    script,
    messageRequests: () => server.requests.filter((request) => request.path === '/v1/messages'),
  };
}

function errorBody(type: string, message: string) {
  return { type: 'error', error: { type, message }, request_id: `req_standin_${messageCounter}` };
}
