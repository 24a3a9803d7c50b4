import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { seedGitlabDuoWorld } from '../../seeds/gitlab-duo-world.ts';
import { createDatabase, type DatabaseHandle } from '../../src/db/client.ts';
import { runMigrations } from '../../src/db/migrate.ts';
import { caseToLine, loadDataset } from '../../src/eval/dataset.ts';
import { runEvalChatCommand } from '../../src/eval/eval-chat-command.ts';
import { type EvalRun, evalRunSchema } from '../../src/eval/eval-result.ts';
import type { EvalSummary } from '../../src/eval/summarize-results.ts';
import { createFakeProvider, defaultFakeAnswer } from '../../src/llm/providers/fake/fake-provider.ts';
import { type AnthropicStandin, startAnthropicStandin } from '../helpers/standins/anthropic-standin.ts';
import { startVertexStandin, type VertexStandin } from '../helpers/standins/vertex-standin.ts';

// Never let google-auth-library probe the GCE metadata server from a test.
process.env.METADATA_SERVER_DETECTION = 'none';

const folder = mkdtempSync(path.join(tmpdir(), 'eval-chat-'));
const outDir = path.join(folder, 'out');
const datasetFile = path.join(folder, 'dataset.jsonl');
let database: DatabaseHandle;
let anthropic: AnthropicStandin;
let vertex: VertexStandin;
let environment: NodeJS.ProcessEnv;

beforeAll(async () => {
  database = await createDatabase({ dataDir: 'memory://' });
  await runMigrations(database);
  await seedGitlabDuoWorld(database.db);
  anthropic = await startAnthropicStandin();
  vertex = await startVertexStandin({ expectedToken: 'standin-token' });
  environment = {
    NODE_ENV: 'test',
    USE_FAKE_MODELS: 'true',
    FAKE_MODEL_LATENCY_MS: '0',
    DOCS_SEARCH_ENABLED: 'false',
    LOG_LEVEL: 'silent',
    EVAL_ANTHROPIC_API_KEY: 'standin-key',
    EVAL_ANTHROPIC_BASE_URL: anthropic.url,
    EVAL_ANTHROPIC_MODEL: 'claude-judge',
    EVAL_VERTEX_AI_PROJECT: 'duo-eval',
    EVAL_VERTEX_AI_API_ENDPOINT: vertex.url,
    EVAL_VERTEX_AI_MODEL: 'gemini-judge',
    EVAL_VERTEX_ACCESS_TOKEN: 'standin-token',
  };
  // Four cases from the committed datasets: an issue looked at, an issue and an epic by URL, a code task.
  const wanted = ['issue-1000-summarize-this', 'issue-1003-status', 'epic-1001-status', 'code-fix-go'];
  const all = [
    ...(await loadDataset('eval/datasets/issues.jsonl')),
    ...(await loadDataset('eval/datasets/epics.jsonl')),
    ...(await loadDataset('eval/datasets/code-tasks.jsonl')),
  ];
  const cases = wanted.map((id) => all.find((evalCase) => evalCase.id === id));
  writeFileSync(datasetFile, `${cases.map((evalCase) => caseToLine(evalCase as never)).join('\n')}\n`);
}, 60_000);

afterAll(async () => {
  await Promise.all([anthropic?.close(), vertex?.close()]);
  await database?.close();
  rmSync(folder, { recursive: true, force: true });
});

beforeEach(() => {
  anthropic.script.clear();
  vertex.script.clear();
});

function capture() {
  let text = '';
  return {
    stream: {
      write: (chunk: string) => {
        text += chunk;
        return true;
      },
    } as NodeJS.WritableStream,
    text: () => text,
  };
}

async function evalChat(argv: string[], extra: Partial<Parameters<typeof runEvalChatCommand>[1]> = {}) {
  const stdout = capture();
  const stderr = capture();
  const code = await runEvalChatCommand(argv, {
    environment,
    stdout: stdout.stream,
    stderr: stderr.stream,
    database,
    ...extra,
  });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

const grade = (text: string) => [text.slice(0, 15), text.slice(15)];
const anthropicReply = (text: string) => ({ kind: 'reply' as const, deltas: grade(text) });
const vertexReply = (text: string) => ({ kind: 'reply' as const, chunks: grade(text) });

function readRun(name: string): EvalRun & { summary: EvalSummary } {
  const run = evalRunSchema.parse(JSON.parse(readFileSync(path.join(outDir, `${name}.json`), 'utf8')));
  return run as EvalRun & { summary: EvalSummary };
}

describe('npm run eval:chat', () => {
  it('answers each case through the chat path, grades it with both judges, and reports', async () => {
    anthropic.script.enqueue(
      anthropicReply('Grade: CORRECT\nExplanation: it names the gift card bug and the fix.'),
      anthropicReply('Grade: INCORRECT\nExplanation: it does not give the status.'),
      anthropicReply('Grade: CORRECT\nExplanation: open, due end of February.'),
      anthropicReply('The student seems to know Go.'),
    );
    vertex.script.enqueue(
      vertexReply('Grade: CORRECT\nExplanation: matches.'),
      vertexReply('Grade: CORRECT\nExplanation: good enough.'),
      vertexReply('I cannot decide.'),
      vertexReply('Grade: INCORRECT\nExplanation: it does not mention make().'),
    );
    const result = await evalChat([
      '--dataset',
      datasetFile,
      '--judges',
      'anthropic,vertex',
      '--concurrency',
      '1',
      '--run',
      'first',
      '--out',
      outDir,
    ]);
    expect(result.stderr).toContain('4/4 cases');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('anthropic  accuracy 66.7 % (2/3, 1 skipped)');

    const run = readRun('first');
    expect(run.judges).toEqual([
      { name: 'anthropic', model: 'claude-judge' },
      { name: 'vertex', model: 'gemini-judge' },
    ]);
    expect(run.cases.map((evalCase) => evalCase.id)).toEqual([
      'issue-1000-summarize-this',
      'issue-1003-status',
      'epic-1001-status',
      'code-fix-go',
    ]);
    const [summary, status, epicStatus, code] = run.cases;
    // The fake model ran the agent: it chose the issue tool, which read the seeded issue.
    expect(summary).toMatchObject({ status: 'completed', toolsUsed: ['IssueReader'], model: 'fake:fake-model' });
    expect(summary?.answer).toContain('Checkout returns 500 when a gift card is combined with a discount code');
    expect(summary?.usage?.inputTokens).toBeGreaterThan(0);
    expect(status?.toolsUsed).toEqual(['IssueReader']);
    expect(status?.answer).toContain('Product search takes over 2 seconds');
    expect(epicStatus?.toolsUsed).toEqual(['EpicReader']);
    expect(epicStatus?.answer).toContain('Fleet agent stability for autoscaling');
    // A slash command needs no tool: the code task prompt went straight to the model.
    expect(code).toMatchObject({ status: 'completed', toolsUsed: [] });
    expect(summary?.grades).toMatchObject({
      anthropic: { grade: 'CORRECT', explanation: 'it names the gift card bug and the fix.' },
      vertex: { grade: 'CORRECT' },
    });
    expect(epicStatus?.grades.vertex).toMatchObject({ grade: null, error: 'unparseable' });
    expect(code?.grades.anthropic).toMatchObject({ grade: null, error: 'unparseable' });

    expect(run.summary.byJudge).toEqual({
      anthropic: { graded: 3, correct: 2, incorrect: 1, skipped: 1, accuracy: 2 / 3 },
      vertex: { graded: 3, correct: 2, incorrect: 1, skipped: 1, accuracy: 2 / 3 },
    });
    expect(run.summary.agreement).toEqual([
      { judges: ['anthropic', 'vertex'], compared: 2, agreed: 1, rate: 0.5, kappa: 0 },
    ]);
    expect(run.summary.expectedTools).toEqual({ cases: 3, matched: 3 });

    // The judges got GitLab's grading prompt through their real SDKs.
    const judged = anthropic.messageRequests()[0]?.body as { temperature: number; messages: { content: string }[] };
    expect(judged.temperature).toBe(0.1);
    expect(judged.messages[0]?.content).toContain('You are a teacher grading a quiz.');
    expect(judged.messages[0]?.content).toContain('<student_answer>\n**Fake model answer.**');
    expect(judged.messages[0]?.content).toContain('TotalCalculator applies the gift card before the discount');
    expect(vertex.requests.filter((request) => request.path.endsWith(':generateContent'))).toHaveLength(4);

    const markdown = readFileSync(path.join(outDir, 'first.md'), 'utf8');
    expect(markdown).toContain('# Duo Chat evaluation `first`');
    expect(markdown).toContain('- Answered by: fake:fake-model');
    expect(markdown).toContain('| anthropic | 2 | 1 | 1 | 66.7 % |');
    expect(markdown).toContain('| vertex | 2 | 1 | 1 | 66.7 % |');
    expect(markdown).toContain('| Summarize this issue | 1 | 1/1 (100.0 %) | 1/1 (100.0 %) |');
    expect(markdown).toContain('| What is the status of %<url>s? | 2 | 1/2 (50.0 %) | 1/1 (100.0 %) |');
    expect(markdown).toContain('| anthropic / vertex | 2 | 1 | 50.0 % | 0.00 |');
    expect(markdown).toContain('- Expected tool used: 3 of 3 cases');
    expect(markdown).toMatch(/## Worst answers\n\n### `code-fix-go`: 1 × INCORRECT\n/);
    expect(markdown).toContain('### `issue-1003-status`: 1 × INCORRECT');
    expect(markdown).toContain('- anthropic: skipped (unparseable): The student seems to know Go.');
  });

  it('compares with a baseline in the report', async () => {
    for (let index = 0; index < 4; index++) {
      anthropic.script.enqueue(anthropicReply('Grade: CORRECT\nExplanation: fine.'));
      vertex.script.enqueue(vertexReply('Grade: CORRECT\nExplanation: fine.'));
    }
    const result = await evalChat([
      '--dataset',
      datasetFile,
      '--judges',
      'anthropic,vertex',
      '--run',
      'second',
      '--out',
      outDir,
      '--baseline',
      path.join(outDir, 'first.json'),
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('compared with the baseline: pass');
    const markdown = readFileSync(path.join(outDir, 'second.md'), 'utf8');
    expect(markdown).toContain('## Compared with `first`');
    expect(markdown).toContain('| anthropic | 3 | 66.7 % | 100.0 % | +33.3 pts | 0 | 1 | 1.00 | pass |');
    expect(readRun('second').summary.byJudge.anthropic?.accuracy).toBe(1);
  });

  it('resumes an interrupted run without redoing finished cases', async () => {
    const interrupt = new AbortController();
    let modelCalls = 0;
    // Ctrl-C arrives while the first cases are being answered.
    const fake = createFakeProvider({
      respond: (request) => {
        modelCalls += 1;
        interrupt.abort();
        return defaultFakeAnswer(request);
      },
    });
    const providers = { forFeature: () => fake, list: () => [fake], modelFor: () => 'fake-model' };
    const argv = [
      '--dataset',
      datasetFile,
      '--judges',
      'fake',
      '--concurrency',
      '2',
      '--run',
      'resumed',
      '--out',
      outDir,
    ];
    const stopped = await evalChat(argv, { providers, signal: interrupt.signal });
    expect(stopped.code).toBe(130);
    expect(stopped.stderr).toContain('Resume with: npm run eval:chat -- --resume resumed --judges fake');
    const checkpoint = path.join(outDir, 'resumed.checkpoint.jsonl');
    const linesAfterStop = readFileSync(checkpoint, 'utf8').trim().split('\n');
    expect(linesAfterStop).toHaveLength(1 + 2); // the header and the two cases that were running
    const callsBefore = modelCalls;

    expect((await evalChat(argv, { providers })).stderr).toContain('exists already');
    const resumed = await evalChat(['--resume', 'resumed', '--judges', 'fake', '--out', outDir], { providers });
    expect(resumed.code).toBe(0);
    expect(readFileSync(checkpoint, 'utf8').trim().split('\n')).toHaveLength(1 + 4);
    const run = readRun('resumed');
    expect(run.cases.map((evalCase) => evalCase.id)).toEqual([
      'issue-1000-summarize-this',
      'issue-1003-status',
      'epic-1001-status',
      'code-fix-go',
    ]);
    expect(run.cases.every((evalCase) => evalCase.grades.fake?.grade)).toBe(true);
    // Only the two remaining cases were answered again: agent cases take two model calls, the code task one.
    expect(modelCalls - callsBefore).toBeLessThanOrEqual(3);
  });

  it('explains what is missing instead of running', async () => {
    expect((await evalChat(['--judges', 'fake'])).stderr).toContain('--dataset <file> is required');
    const noKey = await evalChat(['--dataset', datasetFile, '--judges', 'anthropic'], {
      environment: { NODE_ENV: 'test', LOG_LEVEL: 'silent' },
    });
    expect(noKey).toMatchObject({ code: 2 });
    expect(noKey.stderr).toContain('The anthropic judge needs EVAL_ANTHROPIC_API_KEY or ANTHROPIC_API_KEY');
    const noUser = await evalChat(['--dataset', datasetFile, '--judges', 'fake', '--user', 'nobody', '--out', outDir]);
    expect(noUser.stderr).toContain('npm run db:seed -- --filter=gitlab_duo');
  });
});
