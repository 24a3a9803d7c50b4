import type { IncomingMessage, ServerResponse } from 'node:http';
import { RestHttpError } from './rest-http-error.ts';

/** Reads the whole body, refusing (413) more than `maxBytes` without buffering the excess. */
export async function readBody(request: IncomingMessage, maxBytes: number, tooLargeBody: unknown): Promise<Buffer> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) throw new RestHttpError(413, tooLargeBody);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new RestHttpError(413, tooLargeBody);
    chunks.push(chunk);
  }
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
}

/** Sends a JSON answer unless the client is gone; `Content-Length` is set so keep-alive clients reuse the socket. */
export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  if (response.headersSent || response.destroyed) {
    if (!response.writableEnded) response.end();
    return;
  }
  const text = JSON.stringify(body);
  response.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}

/** Headers as the `{ get }` shape `tokenFromHeaders` takes. */
export function headerReader(request: IncomingMessage): { get(name: string): string | null } {
  return {
    get(name) {
      const value = request.headers[name.toLowerCase()];
      if (value === undefined) return null;
      return Array.isArray(value) ? value.join(', ') : value;
    },
  };
}

/** An AbortSignal that fires when the client goes away before the answer is complete. */
export function clientGoneSignal(response: ServerResponse): AbortSignal {
  const controller = new AbortController();
  response.once('close', () => {
    if (!response.writableFinished) controller.abort(new Error('client closed the connection'));
  });
  return controller.signal;
}
