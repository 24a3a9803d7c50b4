import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One HTTP exchange as the stand-in saw it; tests assert on these. */
export interface RecordedRequest {
  method: string;
  /** Path without the query string, e.g. `/v1/messages`. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** The body parsed as JSON, or `undefined` when it was empty or not JSON. */
  body: unknown;
  rawBody: string;
  /** True when the client closed the connection before the response was complete (e.g. it aborted). */
  aborted: boolean;
  /** True when the stand-in itself cut the connection (a scripted failure), so it is not counted as an abort. */
  cutByServer: boolean;
  /** Resolves once the exchange is over: the response ended or the connection closed. */
  settled: Promise<void>;
}

export interface StandinServer {
  /** `http://127.0.0.1:<port>`, without a trailing slash. */
  readonly url: string;
  /** Every request received, in arrival order. */
  readonly requests: RecordedRequest[];
  close(): Promise<void>;
}

export type StandinHandler = (request: RecordedRequest, response: ServerResponse) => void | Promise<void>;

/**
 * Starts a plain `node:http` server on 127.0.0.1, port 0, that records each request (body included) and
 * whether the client went away before the response ended. Loopback only: stand-ins never listen elsewhere.
 */
export async function startStandinServer(handle: StandinHandler): Promise<StandinServer> {
  const requests: RecordedRequest[] = [];
  const server = createServer((incoming, response) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const url = new URL(incoming.url ?? '/', 'http://127.0.0.1');
      const rawBody = Buffer.concat(chunks).toString('utf8');
      let settle: () => void = () => undefined;
      const recorded: RecordedRequest = {
        method: incoming.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        headers: incoming.headers,
        body: parseJsonOrUndefined(rawBody),
        rawBody,
        aborted: false,
        cutByServer: false,
        settled: new Promise<void>((resolve) => {
          settle = resolve;
        }),
      };
      requests.push(recorded);
      response.on('close', () => {
        if (!response.writableFinished && !recorded.cutByServer) recorded.aborted = true;
        settle();
      });
      Promise.resolve(handle(recorded, response)).catch((error: unknown) => {
        if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' });
        response.end(`stand-in failure: ${String(error)}`);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function parseJsonOrUndefined(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Closes the TCP connection mid-response, as a crashed upstream or a proxy reset would. `end()` (not
 * `destroy()`) flushes what was already written first, so the client really receives the bytes before the cut;
 * a chunked response then lacks its terminating chunk, which HTTP clients report as a failure.
 */
export function cutConnection(request: RecordedRequest, response: ServerResponse): void {
  request.cutByServer = true;
  response.socket?.end();
}

export function writeJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  response.end(text);
}

/** Resolves after `milliseconds`, or at once when the client has gone away (so hung handlers end with the test). */
export function pause(milliseconds: number, response: ServerResponse): Promise<void> {
  if (milliseconds <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, milliseconds);
    response.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** A deterministic unit vector for a text, so embedding tests can compare exact values. */
export function standinEmbedding(text: string, dimensions: number): number[] {
  // FNV-1a seeds a mulberry32 generator: stable across runs and machines.
  let seed = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    seed ^= text.charCodeAt(index);
    seed = Math.imul(seed, 0x01000193) >>> 0;
  }
  const values: number[] = [];
  for (let index = 0; index < dimensions; index++) {
    seed = (seed + 0x6d2b79f5) >>> 0;
    let mixed = seed;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    values.push((((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296) * 2 - 1);
  }
  const norm = Math.sqrt(values.reduce((sum, value) => sum + value * value, 0));
  return values.map((value) => value / norm);
}

/** Splits a text into word-sized deltas that rejoin to exactly the original. */
export function splitIntoDeltas(text: string): string[] {
  return text.match(/\S+\s*|\s+/g) ?? [];
}

/** Reads `<name>-<number>` out of a model id such as `cut-after-50`; undefined when it does not match. */
export function numberAfter(model: string, name: string): number | undefined {
  const match = new RegExp(`(?:^|[-_/])${name}-(\\d+)(?:$|[-_/])`).exec(model);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/** A behaviour queue: tests push behaviours, each request takes the next one before falling back to the model name. */
export interface BehaviourScript<Behaviour> {
  /** Queues behaviours consumed one per request, in order. */
  enqueue(...behaviours: Behaviour[]): void;
  /** The next queued behaviour, or undefined when the queue is empty. */
  next(): Behaviour | undefined;
  clear(): void;
}

export function createBehaviourScript<Behaviour>(): BehaviourScript<Behaviour> {
  const queue: Behaviour[] = [];
  return {
    enqueue: (...behaviours) => queue.push(...behaviours),
    next: () => queue.shift(),
    clear: () => {
      queue.length = 0;
    },
  };
}

export function stringField(value: unknown, key: string): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const field = (value as Record<string, unknown>)[key];
  return typeof field === 'string' ? field : undefined;
}
