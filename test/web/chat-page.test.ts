import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type BrowserContext, chromium, type Page, type WebSocketRoute } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../seeds/dev-world.ts';
import type { DatabaseHandle } from '../../src/db/client.ts';
import { createFakeProvider, defaultFakeAnswer } from '../../src/llm/providers/fake/fake-provider.ts';
import type { ProviderRegistry } from '../../src/llm/registry.ts';
import type { LlmRequest } from '../../src/llm/types.ts';
import { buildDocumentationAnswerRequest } from '../../src/rag/documentation-answer.ts';
import type { DocumentationRetriever } from '../../src/rag/documentation-retriever.ts';
import type { DocumentationSearchResult } from '../../src/rag/search-documentation.ts';
import { graphqlRequest } from '../helpers/graphql-clients.ts';
import { createRedisNamespace } from '../helpers/redis-namespace.ts';
import { createSeededEmbeddedDatabase } from '../helpers/test-database.ts';
import { startTestRuntime, type TestRuntime } from '../helpers/test-runtime.ts';

/** Debian's Chromium (`apt-get install chromium`); `.ci/run` installs it. */
const chromiumPath = '/usr/bin/chromium';
const hasChromium = existsSync(chromiumPath);
const artifacts = path.resolve(import.meta.dirname, '../../test-artifacts');

/** Model output that would run script if any of it reached the page as markup. */
const xssAnswer = [
  'XSS-PROBE answer:',
  '<img src=x onerror="window.__xss=1">',
  '[click me](javascript:window.__xss=2)',
  '<script>window.__xss=3</script>',
  '<svg onload="window.__xss=4"></svg>',
  '<a href="javascript:window.__xss=5">link</a>',
  '![picture](javascript:window.__xss=6)',
  '<iframe srcdoc="<script>parent.__xss=7</script>"></iframe>',
  '[data link](data:text/html;base64,PHNjcmlwdD5wYXJlbnQuX194c3M9ODwvc2NyaXB0Pg==)',
  '<details open ontoggle="window.__xss=9">x</details>',
  '**bold stays bold**',
].join('\n\n');
const longAnswer = `LONG-STORY begins. ${Array.from({ length: 40 }, (_, index) => `Sentence ${index + 1} of a long answer.`).join(' ')} The end.`;

function lastMessage(request: LlmRequest): string {
  return request.messages.at(-1)?.content ?? '';
}

/** The fake model: answers the probes above when they are asked as agent questions, the canned answer otherwise. */
function respond(request: LlmRequest): string {
  const prompt = lastMessage(request);
  const cited = [...prompt.matchAll(/CNT-IDX-(\d+)/g)].map((match) => match[1]);
  if (cited.length > 0) return `Rebase with **git rebase**.\nATTRS: ${cited.map((id) => `CNT-IDX-${id}`).join(' ')}`;
  if (request.system?.includes('Begin!')) {
    if (prompt.includes('XSS-PROBE')) return `I know the final answer.\nFinal Answer: ${xssAnswer}`;
    if (prompt.includes('LONG-STORY')) return `I know the final answer.\nFinal Answer: ${longAnswer}`;
  }
  return defaultFakeAnswer(request);
}

/** Two cited pages: a real one, and one whose URL and title are attacks (shown as text, never as a link). */
function documentationChunk(id: number, url: string, title: string): DocumentationSearchResult {
  return {
    id,
    content: 'Use `git rebase` to replay commits.',
    url,
    title,
    sourcePath: `/doc/topics/git/rebase-${id}.md`,
    headingPath: [],
    metadata: {},
    score: 1,
    similarity: 0.9,
    vectorRank: 1,
    textRank: 1,
  };
}
const documentation: DocumentationRetriever = {
  async retrieve(question) {
    if (!question.includes('SOURCES-PROBE')) return undefined;
    const chunks = [
      documentationChunk(1, 'https://docs.gitlab.com/topics/git/git_rebase/', 'Rebase and resolve conflicts'),
      documentationChunk(2, 'javascript:window.__xss=10', '<img src=x onerror="window.__xss=11">'),
    ];
    return { kind: 'prompt', request: buildDocumentationAnswerRequest(question, chunks), chunks };
  },
};

const fake = createFakeProvider({ latencyMs: 30, chunkSize: 8, respond });
const providers: ProviderRegistry = { forFeature: () => fake, list: () => [fake] };
const namespace = createRedisNamespace();
const developer = devToken('developer');
const owner = devToken('owner');
let database: DatabaseHandle;
let runtime: TestRuntime;
let context: BrowserContext;
let userDataDir: string;

/** What a page did that it must not: script dialogs, uncaught errors, Content-Security-Policy violations. */
interface PageProblems {
  dialogs: string[];
  errors: string[];
  cspViolations: string[];
}
const problems = new Map<Page, PageProblems>();

async function openPage(viewport = { width: 1100, height: 800 }): Promise<Page> {
  const page = await context.newPage();
  await page.setViewportSize(viewport);
  const seen: PageProblems = { dialogs: [], errors: [], cspViolations: [] };
  problems.set(page, seen);
  page.on('dialog', (dialog) => {
    seen.dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  page.on('pageerror', (error) => seen.errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content.Security.Policy/i.test(message.text())) {
      seen.cspViolations.push(message.text());
    }
  });
  return page;
}

async function signIn(page: Page, token: string): Promise<void> {
  await page.goto(`${runtime.baseUrl}/`);
  await page.getByLabel('Personal access token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#connection-status[data-state="connected"]').waitFor();
}

async function ask(page: Page, question: string): Promise<void> {
  const box = page.getByLabel('Your question');
  await box.fill(question);
  await box.press('Enter');
}

/** The answer element of the request whose question contains `marker`. */
async function answerTo(page: Page, marker: string) {
  const question = page.locator('li.message-user', { hasText: marker }).last();
  await question.waitFor();
  const requestId = (await question.getAttribute('data-request-id')) as string;
  return { requestId, answer: page.locator(`li.message-assistant[data-request-id="${requestId}"]`) };
}

function expectNoProblems(page: Page): void {
  expect(problems.get(page)).toEqual({ dialogs: [], errors: [], cspViolations: [] });
}

async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(artifacts, name), fullPage: true });
}

const describeInChromium = hasChromium ? describe : describe.skip;

if (!hasChromium) {
  console.warn(`Browser tests skipped: no Chromium at ${chromiumPath} (apt-get install -y chromium).`);
  it.skip(`browser tests need Chromium at ${chromiumPath} (Debian package "chromium"; .ci/run installs it)`, () => {});
}

describeInChromium(`the Duo Chat page in Chromium (${chromiumPath})`, () => {
  beforeAll(async () => {
    mkdirSync(artifacts, { recursive: true });
    database = await createSeededEmbeddedDatabase();
    runtime = await startTestRuntime({
      role: 'all',
      database,
      prefix: namespace.prefix,
      providers,
      documentation,
      environment: { AI_ACTION_RATE_LIMIT: '0' },
    });
    userDataDir = mkdtempSync(path.join(tmpdir(), 'duo-chat-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: chromiumPath,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
  }, 90_000);

  afterAll(async () => {
    await context?.close();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
    await runtime?.close();
    await database?.close();
    await namespace.cleanup();
  });

  it('signs in with a token kept in session storage, never in the URL, and serves the page with a strict CSP', async () => {
    const page = await openPage();
    const response = await page.goto(`${runtime.baseUrl}/`);
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
    await page.getByLabel('Personal access token').fill('glpat-not-a-real-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#token-error', { hasText: /not accepted|invalid|Invalid/ }).waitFor();

    await page.getByLabel('Personal access token').fill(developer);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#connection-status[data-state="connected"]').waitFor();
    expect(page.url()).toBe(`${runtime.baseUrl}/`);
    const storage = await page.evaluate(() => ({
      session: sessionStorage.getItem('duo-chat:token'),
      local: localStorage.length,
      cookie: document.cookie,
    }));
    expect(storage).toEqual({ session: developer, local: 0, cookie: '' });
    await expect(page.getByLabel('Personal access token').inputValue()).resolves.toBe('');
    expect(await page.locator('#user-name').textContent()).toContain('@developer');
    await screenshot(page, 'chat-page-signed-in.png');
    expectNoProblems(page);
    await page.close();
  }, 60_000);

  it('streams an answer as text chunks, then replaces them with the rendered final message', async () => {
    const page = await openPage();
    await signIn(page, developer);
    await ask(page, 'Tell me a story about rebasing STREAM-1');
    const { requestId, answer } = await answerTo(page, 'STREAM-1');
    await page.locator(`li.message-assistant[data-request-id="${requestId}"][data-state="streaming"]`).waitFor();
    const streamed = (await answer.locator('.message-content').textContent()) ?? '';
    expect(streamed.length).toBeGreaterThan(0);
    // Chunks are shown as text: the Markdown is still raw.
    expect('**Fake model answer.** You asked about').toContain(streamed.slice(0, 20));
    await screenshot(page, 'chat-page-streaming.png');

    await page.locator(`li.message-assistant[data-request-id="${requestId}"][data-state="final"]`).waitFor();
    expect(await answer.locator('.message-content strong').first().textContent()).toBe('Fake model answer.');
    expect(await answer.getAttribute('aria-busy')).toBeNull();

    // Feedback reaches the server and is remembered in the history.
    await answer.getByRole('button', { name: 'Helpful', exact: true }).click();
    await answer.getByText('Feedback sent. Thank you.').waitFor();
    const history = await graphqlRequest<{
      aiMessages: { nodes: { role: string; extras: { hasFeedback: boolean } }[] };
    }>(
      runtime.baseUrl,
      `query { aiMessages(requestIds: ["${requestId}"]) { nodes { role extras { hasFeedback } } } }`,
      { token: developer },
    );
    expect(history.body.data?.aiMessages.nodes.find((node) => node.role === 'ASSISTANT')?.extras.hasFeedback).toBe(
      true,
    );
    await screenshot(page, 'chat-page-answer.png');
    expectNoProblems(page);
    await page.close();
  }, 60_000);

  it('shows tool notices while an answer about a resource streams, and refuses a malformed resource id', async () => {
    const page = await openPage();
    await signIn(page, developer);
    await page.getByLabel(/Context/).fill('not-a-gid');
    await ask(page, 'What is this issue about? TOOL-1');
    await page.locator('#resource-error', { hasText: 'gid://gitlab/Issue/1' }).waitFor();
    await page.getByLabel(/Context/).fill('gid://gitlab/Issue/1');
    await page.getByRole('button', { name: 'Send' }).click();
    const { requestId, answer } = await answerTo(page, 'TOOL-1');
    await answer.locator('.tool-notice', { hasText: 'Using Issue Search…' }).waitFor();
    await page.locator(`li.message-assistant[data-request-id="${requestId}"][data-state="final"]`).waitFor();
    expect(await answer.locator('.message-content').textContent()).toContain('From IssueReader');
    expectNoProblems(page);
    await page.close();
  }, 60_000);

  it('keeps two tabs of the same user in sync, and shows nothing to another user', async () => {
    const tabA = await openPage();
    const tabB = await openPage();
    const stranger = await openPage();
    await Promise.all([signIn(tabA, developer), signIn(tabB, developer), signIn(stranger, owner)]);

    await ask(tabA, 'A question from tab A SYNC-A');
    const inA = await answerTo(tabA, 'SYNC-A');
    await tabA.locator(`li.message-assistant[data-request-id="${inA.requestId}"][data-state="final"]`).waitFor();
    const inB = await answerTo(tabB, 'SYNC-A');
    expect(inB.requestId).toBe(inA.requestId);
    await tabB.locator(`li.message-assistant[data-request-id="${inA.requestId}"][data-state="final"]`).waitFor();
    expect(await inB.answer.locator('.message-content').innerHTML()).toBe(
      await inA.answer.locator('.message-content').innerHTML(),
    );

    await ask(tabB, 'And one from tab B SYNC-B');
    const backInA = await answerTo(tabA, 'SYNC-B');
    await tabA.locator(`li.message-assistant[data-request-id="${backInA.requestId}"][data-state="final"]`).waitFor();
    await screenshot(tabA, 'chat-page-tab-a.png');
    await screenshot(tabB, 'chat-page-tab-b.png');

    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await stranger.locator('li.message', { hasText: /SYNC-A|SYNC-B/ }).count()).toBe(0);
    for (const page of [tabA, tabB, stranger]) {
      expectNoProblems(page);
      await page.close();
    }
  }, 60_000);

  it('never runs script from a model answer or its sources (chunks are text, the final is sanitized)', async () => {
    const page = await openPage();
    await signIn(page, developer);
    await ask(page, 'Please answer XSS-PROBE');
    const { requestId, answer } = await answerTo(page, 'XSS-PROBE');
    // While streaming, the payload is visible as literal text and nothing of it is an element.
    await page.waitForFunction((id) => {
      const item = document.querySelector(`li.message-assistant[data-request-id="${id}"]`);
      const content = item?.querySelector('.message-content');
      return (
        item?.getAttribute('data-state') === 'streaming' &&
        content?.textContent?.includes('<img src=x onerror') &&
        content.children.length === 0
      );
    }, requestId);
    await page.locator(`li.message-assistant[data-request-id="${requestId}"][data-state="final"]`).waitFor();
    expect(await answer.locator('.message-content strong').textContent()).toBe('bold stays bold');

    await ask(page, 'How do I rebase? SOURCES-PROBE');
    const sources = await answerTo(page, 'SOURCES-PROBE');
    await page.locator(`li.message-assistant[data-request-id="${sources.requestId}"][data-state="final"]`).waitFor();
    const links = sources.answer.locator('.message-sources a');
    expect(await links.count()).toBe(1);
    expect(await links.getAttribute('href')).toBe('https://docs.gitlab.com/topics/git/git_rebase/');
    expect(await links.textContent()).toBe('Rebase and resolve conflicts');
    expect(await sources.answer.locator('.message-sources li').nth(1).textContent()).toBe(
      '<img src=x onerror="window.__xss=11">',
    );

    // Give any handler a chance to fire, then look for every way script could have got in.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const found = await page.evaluate(() => {
      const messages = document.getElementById('messages') as HTMLElement;
      const all = [...messages.querySelectorAll('*')];
      return {
        xss: (window as unknown as { __xss?: unknown }).__xss,
        handlers: all.flatMap((element) =>
          [...element.attributes].filter((attribute) => attribute.name.startsWith('on')).map((handler) => handler.name),
        ),
        scriptUrls: all.filter((element) =>
          ['href', 'src', 'srcdoc', 'action', 'formaction'].some((name) =>
            /^\s*(javascript|data|vbscript):/i.test(element.getAttribute(name) ?? ''),
          ),
        ).length,
        dangerous: messages.querySelectorAll('script, iframe, svg, object, embed, details, form, style').length,
      };
    });
    expect(found).toEqual({ xss: undefined, handlers: [], scriptUrls: 0, dangerous: 0 });
    await screenshot(page, 'chat-page-xss.png');
    expectNoProblems(page);
    await page.close();
  }, 60_000);

  it('offers slash commands from the keyboard, keeps history across a reload, and handles /reset and /clear', async () => {
    const page = await openPage();
    const other = await openPage();
    await Promise.all([signIn(page, developer), signIn(other, developer)]);
    const box = page.getByLabel('Your question');
    await box.fill('/');
    await box.press('End');
    await box.pressSequentially('re');
    const options = page.getByRole('option');
    expect(await options.allTextContents()).toEqual([
      expect.stringContaining('/refactor'),
      expect.stringContaining('/reset'),
    ]);
    expect(await box.getAttribute('aria-expanded')).toBe('true');
    await screenshot(page, 'chat-page-slash-hints.png');
    await box.press('ArrowDown');
    await box.press('Enter');
    expect(await box.inputValue()).toBe('/reset ');
    expect(await box.getAttribute('aria-expanded')).toBe('false');
    await box.press('Enter');
    await page.locator('li.message-reset', { hasText: 'New conversation' }).last().waitFor();

    await ask(page, 'Remember this HISTORY-1');
    const { requestId } = await answerTo(page, 'HISTORY-1');
    await page.locator(`li.message-assistant[data-request-id="${requestId}"][data-state="final"]`).waitFor();
    // A reload signs in again from session storage and shows the history from aiMessages.
    await page.reload();
    await page.locator('#connection-status[data-state="connected"]').waitFor();
    await page.locator(`li.message-assistant[data-request-id="${requestId}"][data-state="final"]`).waitFor();
    expect(await page.locator('li.message-user', { hasText: 'HISTORY-1' }).count()).toBe(1);

    await ask(page, '/clear');
    for (const tab of [page, other]) {
      await tab.locator('li.message-reset', { hasText: 'Conversation cleared.' }).waitFor();
      expect(await tab.locator('li.message-user, li.message-assistant').count()).toBe(0);
    }
    await page.reload();
    await page.locator('#connection-status[data-state="connected"]').waitFor();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await page.locator('li.message-user, li.message-assistant').count()).toBe(0);
    for (const tab of [page, other]) {
      expectNoProblems(tab);
      await tab.close();
    }
  }, 60_000);

  it('works on a narrow screen, with every control labelled and reachable from the keyboard', async () => {
    const page = await openPage({ width: 360, height: 740 });
    await signIn(page, developer);
    await ask(page, 'A question on a phone NARROW-1');
    const { requestId } = await answerTo(page, 'NARROW-1');
    await page.locator(`li.message-assistant[data-request-id="${requestId}"][data-state="final"]`).waitFor();
    const layout = await page.evaluate(() => ({
      overflow: document.documentElement.scrollWidth - window.innerWidth,
      unlabelled: [...document.querySelectorAll('input, textarea, button')]
        .filter((control) => (control as HTMLElement).offsetParent !== null)
        .filter((control) => {
          const labelled = control.id && document.querySelector(`label[for="${control.id}"]`);
          return !labelled && !control.getAttribute('aria-label') && !control.textContent?.trim();
        })
        .map((control) => control.outerHTML),
    }));
    expect(layout).toEqual({ overflow: 0, unlabelled: [] });
    // Keyboard: the skip link shows when focused and lands in the message box; Tab goes on to Send.
    await page.locator('#skip-link').focus();
    expect(await page.locator('#skip-link').evaluate((link) => link.getBoundingClientRect().top >= 0)).toBe(true);
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('prompt');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Send');
    await screenshot(page, 'chat-page-narrow.png');
    expectNoProblems(page);
    await page.close();
  }, 60_000);

  it('stops an answer with the Stop button (aiCancel), keeping the text streamed so far', async () => {
    const page = await openPage();
    await signIn(page, developer);
    await ask(page, 'Tell me a LONG-STORY, then STOP-1');
    const { requestId, answer } = await answerTo(page, 'STOP-1');
    await page.locator(`li.message-assistant[data-request-id="${requestId}"][data-state="streaming"]`).waitFor();
    await answer.getByRole('button', { name: 'Stop generating this answer' }).click();
    await page.locator(`li.message-assistant[data-request-id="${requestId}"][data-status="CANCELLED"]`).waitFor();
    expect(await answer.getByText('You stopped this answer.').count()).toBe(1);
    const kept = ((await answer.locator('.message-content').textContent()) ?? '').trim();
    expect(kept.length).toBeGreaterThan(0);
    expect(longAnswer.startsWith(kept)).toBe(true);
    expect(kept.length).toBeLessThan(longAnswer.length);
    expect(await answer.getByRole('button', { name: 'Stop generating this answer' }).count()).toBe(0);
    expectNoProblems(page);
    await page.close();
  }, 60_000);

  it('after a dropped connection, reconnects and resumes the answer in flight with requestId + lastChunkId', async () => {
    const page = await openPage();
    const sockets: WebSocketRoute[] = [];
    const sentToServer: string[] = [];
    let refuseConnections = false;
    await page.routeWebSocket(/\/api\/graphql$/, (socket) => {
      if (refuseConnections) {
        socket.close({ code: 1012, reason: 'Service Restart' });
        return;
      }
      const server = socket.connectToServer();
      socket.onMessage((message) => {
        sentToServer.push(String(message));
        server.send(message);
      });
      sockets.push(socket);
    });
    await signIn(page, developer);
    await ask(page, 'Tell me a LONG-STORY please');
    const { requestId, answer } = await answerTo(page, 'LONG-STORY please');
    await page.waitForFunction(
      (id) =>
        (document.querySelector(`li.message-assistant[data-request-id="${id}"] .message-content`)?.textContent ?? '')
          .length > 40,
      requestId,
    );
    // The network drops mid-answer, and stays down for a while.
    refuseConnections = true;
    for (const socket of sockets.splice(0)) await socket.close({ code: 1012, reason: 'Service Restart' });
    await page.locator('#connection-status[data-state="reconnecting"]').waitFor();
    await screenshot(page, 'chat-page-reconnecting.png');
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    refuseConnections = false;

    await page.locator('#connection-status[data-state="connected"]').waitFor({ timeout: 20_000 });
    await page
      .locator(`li.message-assistant[data-request-id="${requestId}"][data-state="final"]`)
      .waitFor({ timeout: 20_000 });
    expect(((await answer.locator('.message-content').textContent()) ?? '').trim()).toBe(longAnswer);
    const resumed = sentToServer
      .map((message) => JSON.parse(message) as { type: string; payload?: { variables?: Record<string, unknown> } })
      .filter((message) => message.type === 'subscribe' && message.payload?.variables?.requestId === requestId);
    expect(resumed.length).toBeGreaterThan(0);
    expect(Number(resumed.at(-1)?.payload?.variables?.lastChunkId)).toBeGreaterThan(0);
    expectNoProblems(page);
    await page.close();
  }, 60_000);
});
