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
  standinEmbedding,
  startStandinServer,
  writeJson,
} from './standin-server.ts';

/** What the stand-in does with one request: from the test script first, then from the model name. */
export type OpenAICompatibleBehaviour =
  /** A normal answer; `deltas` are the streamed pieces (default: an echo of the last user turn or the prompt size). */
  | { kind: 'reply'; deltas?: string[]; delayMs?: number; stopReason?: string }
  /** An HTTP error with the OpenAI error body. */
  | { kind: 'error'; status: number; headers?: Record<string, string> }
  /** Never answers; the client's abort is recorded. */
  | { kind: 'hang' }
  /** Streams `afterDeltas` chunks, then closes the connection without `[DONE]`. */
  | { kind: 'cut'; afterDeltas: number }
  /** Streams `afterDeltas` chunks, then a `data: {"error":…}` frame, as vLLM does when generation fails. */
  | { kind: 'stream-error'; afterDeltas: number; code: number };

export interface OpenAICompatibleStandin extends StandinServer {
  readonly script: BehaviourScript<OpenAICompatibleBehaviour>;
  /** When set, requests must carry `Authorization: Bearer <apiKey>` (vLLM `--api-key`). */
  apiKey: string | undefined;
}

const errorTypeByStatus: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  404: 'not_found_error',
  429: 'rate_limit_error',
  500: 'server_error',
  503: 'service_unavailable',
};

/**
 * Model-name switches: `fail-<status>` (429 carries `retry-after: 1` and `retry-after-ms: 20`), `hang`,
 * `cut-after-<n>`, `stream-error-after-<n>`, `deltas-<n>`, `slow-<ms>`. Anything else answers normally.
 */
export function openAICompatibleBehaviourForModel(model: string): OpenAICompatibleBehaviour {
  const status = numberAfter(model, 'fail');
  if (status !== undefined) {
    return {
      kind: 'error',
      status,
      ...(status === 429 ? { headers: { 'retry-after': '1', 'retry-after-ms': '20' } } : {}),
    };
  }
  if (model === 'hang' || model.startsWith('hang-')) return { kind: 'hang' };
  const cutAfter = numberAfter(model, 'cut-after');
  if (cutAfter !== undefined) return { kind: 'cut', afterDeltas: cutAfter };
  const errorAfter = numberAfter(model, 'stream-error-after');
  if (errorAfter !== undefined) return { kind: 'stream-error', afterDeltas: errorAfter, code: 500 };
  const deltaCount = numberAfter(model, 'deltas');
  const delayMs = numberAfter(model, 'slow');
  return {
    kind: 'reply',
    ...(deltaCount === undefined ? {} : { deltas: numberedPieces(deltaCount) }),
    ...(delayMs === undefined ? {} : { delayMs }),
  };
}

function numberedPieces(count: number): string[] {
  return Array.from({ length: count }, (_, index) => `t${index} `);
}

interface GenerationBody {
  model: string;
  stream: boolean;
  includeUsage: boolean;
  maxTokens: number | undefined;
  stop: string[];
  promptCharacters: number;
  defaultAnswer: string;
}

function readGenerationBody(body: unknown, kind: 'chat' | 'completion'): GenerationBody | string {
  if (typeof body !== 'object' || body === null) return 'Request body must be a JSON object';
  const record = body as Record<string, unknown>;
  if (typeof record.model !== 'string') return "'model' is a required property";
  let promptCharacters = 0;
  let defaultAnswer: string;
  if (kind === 'chat') {
    if (!Array.isArray(record.messages) || record.messages.length === 0) return "'messages' is a required property";
    let lastUser = '';
    for (const message of record.messages as Record<string, unknown>[]) {
      const content = typeof message?.content === 'string' ? message.content : '';
      promptCharacters += content.length;
      if (message?.role === 'user') lastUser = content;
    }
    defaultAnswer = `Stand-in worker answer to: ${lastUser}`;
  } else {
    if (typeof record.prompt !== 'string') return "'prompt' must be a string";
    promptCharacters = record.prompt.length + (typeof record.suffix === 'string' ? record.suffix.length : 0);
    defaultAnswer = '    return a + b';
  }
  const stop =
    typeof record.stop === 'string'
      ? [record.stop]
      : Array.isArray(record.stop)
        ? record.stop.filter((value): value is string => typeof value === 'string')
        : [];
  const streamOptions = record.stream_options as Record<string, unknown> | undefined;
  return {
    model: record.model,
    stream: record.stream === true,
    includeUsage: streamOptions?.include_usage === true,
    maxTokens: typeof record.max_tokens === 'number' ? record.max_tokens : undefined,
    stop,
    promptCharacters,
    defaultAnswer,
  };
}

let counter = 0;

/** A loopback stand-in for an OpenAI-compatible GPU model worker (vLLM-style `/v1/...` endpoints). */
export async function startOpenAICompatibleStandin(
  options: { apiKey?: string } = {},
): Promise<OpenAICompatibleStandin> {
  const script = createBehaviourScript<OpenAICompatibleBehaviour>();
  const state = { apiKey: options.apiKey };

  async function handle(request: RecordedRequest, response: ServerResponse): Promise<void> {
    const route = `${request.method} ${request.path}`;
    const known = ['POST /v1/chat/completions', 'POST /v1/completions', 'POST /v1/embeddings'];
    if (!known.includes(route)) {
      openAIError(response, 404, `Route ${route} not found`);
      return;
    }
    if (state.apiKey !== undefined && request.headers.authorization !== `Bearer ${state.apiKey}`) {
      openAIError(response, 401, 'Unauthorized');
      return;
    }
    if (route === 'POST /v1/embeddings') {
      handleEmbeddings(request, response);
      return;
    }
    const kind = route === 'POST /v1/chat/completions' ? 'chat' : 'completion';
    const body = readGenerationBody(request.body, kind);
    if (typeof body === 'string') {
      openAIError(response, 400, body);
      return;
    }
    const behaviour = script.next() ?? openAICompatibleBehaviourForModel(body.model);
    if (behaviour.kind === 'error') {
      openAIError(response, behaviour.status, `Stand-in error ${behaviour.status}`, behaviour.headers);
      return;
    }
    if (behaviour.kind === 'hang') return;

    let pieces =
      behaviour.kind === 'reply' && behaviour.deltas
        ? behaviour.deltas
        : behaviour.kind === 'cut' || behaviour.kind === 'stream-error'
          ? numberedPieces(behaviour.afterDeltas + 50)
          : splitIntoDeltas(body.defaultAnswer);
    let finishReason = 'stop';
    let stopReason: string | null = behaviour.kind === 'reply' ? (behaviour.stopReason ?? null) : null;
    const joined = pieces.join('');
    for (const sequence of body.stop) {
      const index = joined.indexOf(sequence);
      if (index !== -1) {
        pieces = splitIntoDeltas(joined.slice(0, index));
        stopReason = sequence;
        break;
      }
    }
    if (body.maxTokens !== undefined && pieces.length > body.maxTokens) {
      pieces = pieces.slice(0, body.maxTokens);
      finishReason = 'length';
      stopReason = null;
    }
    const id = `${kind === 'chat' ? 'chatcmpl' : 'cmpl'}-standin${++counter}`;
    const created = Math.floor(Date.now() / 1000);
    const usage = {
      prompt_tokens: Math.max(1, Math.ceil(body.promptCharacters / 4)),
      completion_tokens: pieces.length,
      total_tokens: Math.max(1, Math.ceil(body.promptCharacters / 4)) + pieces.length,
    };

    if (!body.stream) {
      const text = pieces.join('');
      writeJson(response, 200, {
        id,
        object: kind === 'chat' ? 'chat.completion' : 'text_completion',
        created,
        model: body.model,
        choices: [
          kind === 'chat'
            ? {
                index: 0,
                message: { role: 'assistant', content: text },
                finish_reason: finishReason,
                stop_reason: stopReason,
                logprobs: null,
              }
            : { index: 0, text, finish_reason: finishReason, stop_reason: stopReason, logprobs: null },
        ],
        usage,
      });
      return;
    }

    response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    const object = kind === 'chat' ? 'chat.completion.chunk' : 'text_completion';
    const frame = (choice: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
      `data: ${JSON.stringify({ id, object, created, model: body.model, choices: [choice], ...extra })}\n\n`;
    if (kind === 'chat') {
      response.write(
        frame({ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null, logprobs: null }),
      );
    }
    const delayMs = behaviour.kind === 'reply' ? (behaviour.delayMs ?? 0) : 0;
    for (const [index, piece] of pieces.entries()) {
      if (behaviour.kind === 'cut' && index === behaviour.afterDeltas) {
        cutConnection(request, response);
        return;
      }
      if (behaviour.kind === 'stream-error' && index === behaviour.afterDeltas) {
        response.write(
          `data: ${JSON.stringify({ error: { message: 'Stand-in generation failure', type: 'InternalServerError', code: behaviour.code, object: 'error' } })}\n\n`,
        );
        response.end();
        return;
      }
      await pause(delayMs, response);
      if (response.destroyed) return;
      const last = index === pieces.length - 1;
      const finish = last ? { finish_reason: finishReason, stop_reason: stopReason } : { finish_reason: null };
      response.write(
        frame(
          kind === 'chat'
            ? { index: 0, delta: { content: piece }, logprobs: null, ...finish }
            : { index: 0, text: piece, logprobs: null, ...finish },
        ),
      );
    }
    if (pieces.length === 0) {
      response.write(
        frame(
          kind === 'chat'
            ? { index: 0, delta: {}, finish_reason: finishReason }
            : { index: 0, text: '', finish_reason: finishReason },
        ),
      );
    }
    if (body.includeUsage) {
      response.write(`data: ${JSON.stringify({ id, object, created, model: body.model, choices: [], usage })}\n\n`);
    }
    response.write('data: [DONE]\n\n');
    response.end();
  }

  function handleEmbeddings(request: RecordedRequest, response: ServerResponse): void {
    const body = (request.body ?? {}) as Record<string, unknown>;
    const input = typeof body.input === 'string' ? [body.input] : body.input;
    if (typeof body.model !== 'string' || !Array.isArray(input) || input.some((item) => typeof item !== 'string')) {
      openAIError(response, 400, "'model' and 'input' (string or string[]) are required");
      return;
    }
    const behaviour = script.next() ?? openAICompatibleBehaviourForModel(body.model);
    if (behaviour.kind === 'error') {
      openAIError(response, behaviour.status, `Stand-in error ${behaviour.status}`, behaviour.headers);
      return;
    }
    if (behaviour.kind === 'hang') return;
    const dimensions = typeof body.dimensions === 'number' ? body.dimensions : 768;
    const texts = input as string[];
    writeJson(response, 200, {
      object: 'list',
      model: body.model,
      // Reversed on purpose: clients must order by `index`, not by position.
      data: texts
        .map((text, index) => ({ object: 'embedding', index, embedding: standinEmbedding(text, dimensions) }))
        .reverse(),
      usage: { prompt_tokens: texts.length, total_tokens: texts.length },
    });
  }

  const server = await startStandinServer(handle);
  return {
    url: server.url,
    requests: server.requests,
    close: server.close,
    script,
    get apiKey() {
      return state.apiKey;
    },
    set apiKey(apiKey: string | undefined) {
      state.apiKey = apiKey;
    },
  };
}

function openAIError(
  response: ServerResponse,
  status: number,
  message: string,
  headers: Record<string, string> = {},
): void {
  writeJson(
    response,
    status,
    { error: { message, type: errorTypeByStatus[status] ?? 'server_error', param: null, code: null } },
    headers,
  );
}
