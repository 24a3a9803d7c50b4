import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveWebPage, webFolder } from '../../src/web/serve-web-page.ts';

let server: Server;
let baseUrl: string;

beforeAll(async () => {
  server = createServer((request, response) => {
    if (!serveWebPage(request, response)) response.writeHead(404, { 'x-fell-through': 'yes' }).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

const sourceFiles = readdirSync(path.join(webFolder, 'src')).filter((file) => file.endsWith('.ts'));
const sources = new Map(sourceFiles.map((file) => [file, readFileSync(path.join(webFolder, 'src', file), 'utf8')]));

describe('the chat page at /', () => {
  it('serves the page with a Content-Security-Policy that allows no inline script, style or remote image', async () => {
    const response = await fetch(`${baseUrl}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const policy = response.headers.get('content-security-policy') ?? '';
    expect(policy).toContain("default-src 'none'");
    expect(policy).toContain("script-src 'self'");
    expect(policy).toContain("img-src 'self'");
    expect(policy).not.toContain('unsafe-inline');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    const html = await response.text();
    // Everything the page runs or styles comes from a file: the policy would block anything inline.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)/);
    expect(html).not.toMatch(/\sstyle=|\son[a-z]+=/i);
    expect(html).toContain('src="/assets/chat.js"');
  });

  it('bundles the script with esbuild (graphql-ws included) and answers a repeat request with 304', async () => {
    const response = await fetch(`${baseUrl}/assets/chat.js`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const script = await response.text();
    expect(script).toContain('graphql-transport-ws');
    // A small bundle: the page, its client and graphql-ws, minified.
    expect(script.length).toBeLessThan(60_000);
    const etag = response.headers.get('etag') ?? '';
    const again = await fetch(`${baseUrl}/assets/chat.js`, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    const styles = await fetch(`${baseUrl}/assets/chat.css`);
    expect(styles.headers.get('content-type')).toBe('text/css; charset=utf-8');
  });

  it('leaves every other request to the API (POST /, unknown paths)', async () => {
    expect((await fetch(`${baseUrl}/`, { method: 'POST' })).headers.get('x-fell-through')).toBe('yes');
    expect((await fetch(`${baseUrl}/assets/other.js`)).headers.get('x-fell-through')).toBe('yes');
    expect((await fetch(`${baseUrl}/api/graphql`)).headers.get('x-fell-through')).toBe('yes');
  });
});

describe('the page sources', () => {
  it('turn model output into markup in exactly one place: the sanitized contentHtml of a final message', () => {
    const markupSinks = /\.(?:innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write|\beval\(|new Function\(/g;
    const uses = [...sources].flatMap(([file, text]) =>
      [...text.matchAll(markupSinks)].map((match) => `${file}: ${match[0]}`),
    );
    expect(uses).toEqual(['chat-view.ts: .innerHTML =']);
    expect(sources.get('chat-view.ts')).toMatch(
      /function showSanitizedHtml\(target: HTMLElement, contentHtml: string\)/,
    );
  });

  it('keep the token in session storage only, and never put it in a URL', () => {
    const all = [...sources.values()].join('\n');
    expect(all).toContain('sessionStorage');
    expect(all).not.toContain('localStorage');
    expect(all).not.toContain('document.cookie');
    expect(all).not.toMatch(/searchParams|location\.search|[?&]token=/);
  });
});
