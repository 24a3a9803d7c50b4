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

/**
 * What the stand-in does with one Vertex call. Taken from the test script first, then from the model name
 * (see {@link vertexBehaviourForModel}).
 */
export type VertexBehaviour =
  /** A normal answer; `chunks` are the streamed text pieces (default: an echo of the last user turn). */
  | { kind: 'reply'; chunks?: string[]; delayMs?: number }
  /** An HTTP error with Google's JSON envelope `{error:{code,message,status,details}}`. */
  | { kind: 'error'; status: number; retryDelay?: string }
  /** Accepts the request and never answers; the client's abort is recorded. */
  | { kind: 'hang' }
  /** Streams `afterChunks` chunks, then closes the connection without the last (finishReason) chunk. */
  | { kind: 'cut'; afterChunks: number }
  /** The prompt is blocked: no candidates, `promptFeedback.blockReason: SAFETY`. */
  | { kind: 'blocked' }
  /** The candidate stops with `finishReason: SAFETY` after the given text. */
  | { kind: 'safety-stop'; chunks: string[] };

export interface VertexStandin extends StandinServer {
  readonly script: BehaviourScript<VertexBehaviour>;
  /** The token the stand-in requires after `Bearer `; any non-empty token when undefined. */
  expectedToken: string | undefined;
}

const statusNameByCode: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

/**
 * Model-name switches: `fail-<status>` (429 carries a `google.rpc.RetryInfo` of 0.020 s), `hang`,
 * `cut-after-<n>`, `chunks-<n>` (n numbered chunks), `slow-<ms>`, `blocked`, `safety-stop`. Anything else answers.
 */
export function vertexBehaviourForModel(model: string): VertexBehaviour {
  const status = numberAfter(model, 'fail');
  if (status !== undefined) return { kind: 'error', status, ...(status === 429 ? { retryDelay: '0.020s' } : {}) };
  if (model === 'hang' || model.startsWith('hang-')) return { kind: 'hang' };
  if (model === 'blocked') return { kind: 'blocked' };
  if (model === 'safety-stop') return { kind: 'safety-stop', chunks: ['Partial ', 'answer '] };
  const cutAfter = numberAfter(model, 'cut-after');
  if (cutAfter !== undefined) return { kind: 'cut', afterChunks: cutAfter };
  const chunkCount = numberAfter(model, 'chunks');
  const delayMs = numberAfter(model, 'slow');
  return {
    kind: 'reply',
    ...(chunkCount === undefined ? {} : { chunks: numberedChunks(chunkCount) }),
    ...(delayMs === undefined ? {} : { delayMs }),
  };
}

export function numberedChunks(count: number): string[] {
  return Array.from({ length: count }, (_, index) => `c${index} `);
}

/** `/{v1|v1beta1}/projects/{p}/locations/{l}/publishers/google/models/{model}:{method}` */
const modelPath =
  /^\/(v1|v1beta1)\/projects\/([^/]+)\/locations\/([^/]+)\/publishers\/google\/models\/([^/:]+):([A-Za-z]+)$/;

function googleError(response: ServerResponse, status: number, message: string, details: unknown[] = []): void {
  writeJson(response, status, {
    error: { code: status, message, status: statusNameByCode[status] ?? 'UNKNOWN', details },
  });
}

interface GeminiBody {
  lastUserText: string;
  promptCharacters: number;
  maxOutputTokens: number | undefined;
  stopSequences: string[];
}

function readGeminiBody(body: unknown): GeminiBody | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const record = body as Record<string, unknown>;
  if (!Array.isArray(record.contents) || record.contents.length === 0) return undefined;
  let lastUserText = '';
  let promptCharacters = 0;
  const texts = (content: unknown): string => {
    const parts = typeof content === 'object' && content !== null ? (content as Record<string, unknown>).parts : [];
    return Array.isArray(parts)
      ? parts.map((part) => (typeof part?.text === 'string' ? (part.text as string) : '')).join('')
      : '';
  };
  for (const content of record.contents as unknown[]) {
    const text = texts(content);
    promptCharacters += text.length;
    if ((content as Record<string, unknown>).role === 'user') lastUserText = text;
  }
  promptCharacters += texts(record.systemInstruction).length;
  const config = (record.generationConfig ?? {}) as Record<string, unknown>;
  return {
    lastUserText,
    promptCharacters,
    maxOutputTokens: typeof config.maxOutputTokens === 'number' ? config.maxOutputTokens : undefined,
    stopSequences: Array.isArray(config.stopSequences)
      ? config.stopSequences.filter((value): value is string => typeof value === 'string')
      : [],
  };
}

/** A loopback stand-in for Vertex AI: Gemini `generateContent` / `streamGenerateContent?alt=sse` and `:predict`. */
export async function startVertexStandin(options: { expectedToken?: string } = {}): Promise<VertexStandin> {
  const script = createBehaviourScript<VertexBehaviour>();
  const state = { expectedToken: options.expectedToken };

  async function handle(request: RecordedRequest, response: ServerResponse): Promise<void> {
    const match = modelPath.exec(request.path);
    if (request.method !== 'POST' || !match) {
      googleError(response, 404, `The requested URL ${request.path} was not found on this server.`);
      return;
    }
    const authorization = request.headers.authorization ?? '';
    const token = /^Bearer (\S+)$/.exec(authorization)?.[1];
    if (!token || (state.expectedToken !== undefined && token !== state.expectedToken)) {
      googleError(response, 401, 'Request had invalid authentication credentials. Expected OAuth 2 access token.');
      return;
    }
    const model = match[4] ?? '';
    const method = match[5] ?? '';
    const behaviour = script.next() ?? vertexBehaviourForModel(model);

    if (behaviour.kind === 'error') {
      const details = behaviour.retryDelay
        ? [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: behaviour.retryDelay }]
        : [];
      googleError(response, behaviour.status, `Stand-in ${statusNameByCode[behaviour.status] ?? 'error'}`, details);
      return;
    }
    if (behaviour.kind === 'hang') return;

    if (method === 'predict') {
      handlePredict(model, request, response);
      return;
    }
    const body = readGeminiBody(request.body);
    if (!body) {
      googleError(response, 400, 'Invalid JSON payload received. contents is required.');
      return;
    }
    if (behaviour.kind === 'blocked') {
      writeJson(response, 200, {
        promptFeedback: { blockReason: 'SAFETY', blockReasonMessage: 'Stand-in block' },
        usageMetadata: { promptTokenCount: 3, totalTokenCount: 3 },
        modelVersion: model,
      });
      return;
    }
    let chunks =
      behaviour.kind === 'reply' && behaviour.chunks
        ? behaviour.chunks
        : behaviour.kind === 'safety-stop'
          ? behaviour.chunks
          : behaviour.kind === 'cut'
            ? numberedChunks(behaviour.afterChunks + 50)
            : splitIntoDeltas(`Stand-in Gemini answer to: ${body.lastUserText}`);
    let finishReason = behaviour.kind === 'safety-stop' ? 'SAFETY' : 'STOP';
    const joined = chunks.join('');
    const stopAt = Math.min(...body.stopSequences.map((sequence) => joined.indexOf(sequence)).filter((i) => i >= 0));
    if (Number.isFinite(stopAt)) chunks = splitIntoDeltas(joined.slice(0, stopAt)); // Gemini still says STOP.
    if (body.maxOutputTokens !== undefined && chunks.length > body.maxOutputTokens) {
      chunks = chunks.slice(0, body.maxOutputTokens);
      finishReason = 'MAX_TOKENS';
    }
    const usageMetadata = {
      promptTokenCount: Math.max(1, Math.ceil(body.promptCharacters / 4)),
      candidatesTokenCount: chunks.length,
      totalTokenCount: Math.max(1, Math.ceil(body.promptCharacters / 4)) + chunks.length,
    };
    const candidate = (text: string, last: boolean) => ({
      content: { role: 'model', parts: [{ text }] },
      ...(last ? { finishReason } : {}),
      index: 0,
    });

    if (method === 'generateContent') {
      writeJson(response, 200, {
        candidates: [candidate(chunks.join(''), true)],
        usageMetadata,
        modelVersion: model,
        createTime: new Date().toISOString(),
        responseId: `standin-${request.path.length}`,
      });
      return;
    }
    if (method !== 'streamGenerateContent') {
      googleError(response, 404, `Method ${method} is not served by the stand-in.`);
      return;
    }
    // Without alt=sse the real API streams one JSON array; @google/genai always asks for SSE.
    if (request.query.get('alt') !== 'sse') {
      googleError(response, 400, 'The stand-in only serves streamGenerateContent with alt=sse.');
      return;
    }
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const delayMs = behaviour.kind === 'reply' ? (behaviour.delayMs ?? 0) : 0;
    for (const [index, text] of chunks.entries()) {
      if (behaviour.kind === 'cut' && index === behaviour.afterChunks) {
        cutConnection(request, response);
        return;
      }
      await pause(delayMs, response);
      if (response.destroyed) return;
      const last = index === chunks.length - 1;
      // Frames are `data: <GenerateContentResponse>` and a blank line: no `event:`, no `[DONE]`.
      const frame = {
        candidates: [candidate(text, last)],
        ...(last ? { usageMetadata } : {}),
        modelVersion: model,
      };
      response.write(`data: ${JSON.stringify(frame)}\r\n\r\n`);
    }
    if (chunks.length === 0) {
      response.write(
        `data: ${JSON.stringify({ candidates: [candidate('', true)], usageMetadata, modelVersion: model })}\r\n\r\n`,
      );
    }
    response.end();
  }

  function handlePredict(model: string, request: RecordedRequest, response: ServerResponse): void {
    const body = (request.body ?? {}) as { instances?: unknown; parameters?: unknown };
    if (!Array.isArray(body.instances) || body.instances.length === 0) {
      googleError(response, 400, 'instances is required.');
      return;
    }
    const instances = body.instances as Record<string, unknown>[];
    const parameters = (body.parameters ?? {}) as Record<string, unknown>;
    if (/^(textembedding-gecko|text-embedding-|text-multilingual-embedding-)/.test(model)) {
      const dimensions = typeof parameters.outputDimensionality === 'number' ? parameters.outputDimensionality : 768;
      writeJson(response, 200, {
        predictions: instances.map((instance) => {
          const content = typeof instance.content === 'string' ? instance.content : '';
          return {
            embeddings: {
              statistics: { truncated: false, token_count: Math.max(1, Math.ceil(content.length / 4)) },
              values: standinEmbedding(content, dimensions),
            },
          };
        }),
        metadata: { billableCharacterCount: instances.length },
      });
      return;
    }
    const prefix = typeof instances[0]?.prefix === 'string' ? instances[0].prefix : '';
    const content = typeof instances[0]?.content === 'string' ? instances[0].content : '';
    const tokenMetadata = {
      inputTokenCount: { totalTokens: Math.max(1, Math.ceil((prefix.length + content.length) / 4)) },
      outputTokenCount: { totalTokens: 4 },
    };
    const safetyAttributes = { categories: [], blocked: false, scores: [] };
    if (model.startsWith('code-gecko') || model.startsWith('code-bison')) {
      writeJson(response, 200, {
        predictions: [
          { content: '  return a + b;\n', score: -2.5, safetyAttributes, citationMetadata: { citations: [] } },
        ],
        metadata: { tokenMetadata },
      });
      return;
    }
    if (model.startsWith('chat-bison') || model.startsWith('codechat-bison')) {
      writeJson(response, 200, {
        predictions: [
          { candidates: [{ author: '1', content: 'Stand-in chat answer.' }], safetyAttributes: [safetyAttributes] },
        ],
        metadata: { tokenMetadata },
      });
      return;
    }
    writeJson(response, 200, {
      predictions: [{ content: 'Stand-in text answer.', safetyAttributes, citationMetadata: { citations: [] } }],
      metadata: { tokenMetadata },
    });
  }

  const server = await startStandinServer(handle);
  return {
    url: server.url,
    requests: server.requests,
    close: server.close,
    script,
    get expectedToken() {
      return state.expectedToken;
    },
    set expectedToken(token: string | undefined) {
      state.expectedToken = token;
    },
  };
}
