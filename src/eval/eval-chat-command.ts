import path from 'node:path';
import { parseArgs } from 'node:util';
import { type Config, ConfigError, loadConfig } from '../config.ts';
import { type DatabaseHandle, DatabaseLockedError } from '../db/client.ts';
import type { ProviderRegistry } from '../llm/registry.ts';
import { createLogger } from '../logger.ts';
import { openChatServices } from './chat-services.ts';
import { DatasetError } from './dataset.ts';
import { createJudges, JudgeConfigurationError } from './judge-providers.ts';
import { createProgressLine } from './progress-line.ts';
import { createChatCaseRunner } from './run-chat-case.ts';
import { EvaluationError, runEvaluation } from './run-evaluation.ts';

export const evalChatUsage = `Usage: npm run eval:chat -- --dataset <file.jsonl> [options]
       npm run eval:chat -- --resume <run> [options]

  --dataset <file>      cases to run (eval/datasets/*.jsonl)
  --judges <list>       anthropic,vertex (default), or fake for an offline word-overlap judge
  --concurrency <n>     cases at once (default 10)
  --run <name>          output name (default chat-<date>-<time>); files go to <out>/<name>.{json,md}
  --resume <run>        continue an interrupted run from its checkpoint
  --baseline <file>     a previous run's JSON to compare with in the report
  --margin <x>          accepted accuracy drop for the comparison (default 0.05)
  --alpha <x>           significance level of the McNemar test (default 0.05)
  --limit <n>           only the first n cases
  --user <username>     who asks (default duo-evaluator, from --filter=gitlab_duo)
  --out <dir>           output folder (default tmp/eval)
`;

interface CommandIo {
  environment: NodeJS.ProcessEnv;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  /** Aborted on Ctrl-C: running cases finish, are saved, and the run can be resumed. */
  signal?: AbortSignal;
  /** Tests: an already migrated and seeded database, and providers, instead of the configuration's. */
  database?: DatabaseHandle;
  providers?: ProviderRegistry;
}

class UsageError extends Error {}

function positiveInteger(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number <= 0) throw new UsageError(`--${name} must be a positive integer`);
  return number;
}

function fraction(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!(number >= 0 && number <= 1)) throw new UsageError(`--${name} must be between 0 and 1`);
  return number;
}

export function defaultRunName(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `chat-${stamp}`;
}

function parseArguments(argv: string[]) {
  return parseArgs({
    args: argv,
    options: {
      dataset: { type: 'string' },
      judges: { type: 'string', default: 'anthropic,vertex' },
      concurrency: { type: 'string' },
      run: { type: 'string' },
      resume: { type: 'string' },
      baseline: { type: 'string' },
      margin: { type: 'string' },
      alpha: { type: 'string' },
      limit: { type: 'string' },
      user: { type: 'string', default: 'duo-evaluator' },
      out: { type: 'string', default: 'tmp/eval' },
      help: { type: 'boolean', default: false },
    },
  });
}

const percent = (value: number | null) => (value === null ? '–' : `${(value * 100).toFixed(1)} %`);

/**
 * `npm run eval:chat`: answers each case of a dataset through the chat path with the configured model, has the
 * judges grade it, and writes `<out>/<run>.json` and `.md`. Returns the exit code: 0 done, 2 bad usage or
 * configuration, 130 interrupted (resume with `--resume <run>`).
 */
export async function runEvalChatCommand(argv: string[], io: CommandIo): Promise<number> {
  let config: Config;
  let values: ReturnType<typeof parseArguments>['values'];
  try {
    values = parseArguments(argv).values;
    config = loadConfig(io.environment);
  } catch (error) {
    io.stderr.write(`${(error as Error).message}\n\n${evalChatUsage}`);
    return 2;
  }
  if (values.help) {
    io.stdout.write(evalChatUsage);
    return 0;
  }
  const logger = createLogger({ level: io.environment.LOG_LEVEL ? config.LOG_LEVEL : 'warn', name: 'eval' });
  let chat: Awaited<ReturnType<typeof openChatServices>> | undefined;
  try {
    if (values.resume && values.run && values.run !== values.resume) {
      throw new UsageError('--run and --resume name different runs');
    }
    if (!values.resume && !values.dataset) throw new UsageError('--dataset <file> is required');
    const judges = createJudges(
      (values.judges ?? '')
        .split(',')
        .map((name) => name.trim())
        .filter(Boolean),
      io.environment,
    );
    const concurrency = positiveInteger(values.concurrency, 'concurrency', 10);
    const limit = values.limit === undefined ? undefined : positiveInteger(values.limit, 'limit', 1);
    const gate = { margin: fraction(values.margin, 'margin', 0.05), alpha: fraction(values.alpha, 'alpha', 0.05) };
    chat = await openChatServices(config, logger, {
      ...(io.database ? { database: io.database } : {}),
      ...(io.providers ? { providers: io.providers } : {}),
    });
    const userId = await chat.userIdOf(values.user ?? 'duo-evaluator');
    if (userId === undefined) {
      throw new UsageError(`No user ${values.user}: run \`npm run db:seed -- --filter=gitlab_duo\` first`);
    }
    const run = values.resume ?? values.run ?? defaultRunName();
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(run)) throw new UsageError(`Run names are letters, digits, . _ -: ${run}`);
    let progressLine: ReturnType<typeof createProgressLine> | undefined;
    const outcome = await runEvaluation({
      run,
      outDir: path.resolve(values.out ?? 'tmp/eval'),
      ...(values.dataset ? { datasetFile: values.dataset } : {}),
      resume: values.resume !== undefined,
      judges,
      concurrency,
      ...(limit ? { limit } : {}),
      ...(values.baseline ? { baselineFile: values.baseline } : {}),
      gate,
      ...(io.signal ? { signal: io.signal } : {}),
      answer: createChatCaseRunner({
        services: chat.services,
        bundles: chat.bundles,
        userId,
        timeoutMs: config.AI_REQUEST_DEADLINE_MS,
      }),
      onProgress(done, total, failed) {
        progressLine ??= createProgressLine(io.stderr, total);
        progressLine.update(done, failed);
      },
    });
    progressLine?.end();
    if (!outcome.complete) {
      io.stderr.write(
        `Interrupted; finished cases are saved in ${outcome.checkpointFile}.\nResume with: npm run eval:chat -- --resume ${run}${judges.length ? ` --judges ${judges.map((judge) => judge.name).join(',')}` : ''}\n`,
      );
      return 130;
    }
    const summary = outcome.summary;
    io.stdout.write(`Run ${run}: ${summary?.cases} cases, ${summary?.completed} answered\n`);
    for (const [judge, grades] of Object.entries(summary?.byJudge ?? {})) {
      io.stdout.write(
        `  ${judge.padEnd(10)} accuracy ${percent(grades.accuracy)} (${grades.correct}/${grades.graded}, ${grades.skipped} skipped)\n`,
      );
    }
    if (outcome.comparison) {
      io.stdout.write(`  compared with the baseline: ${outcome.comparison.passed ? 'pass' : 'BLOCKED'}\n`);
    }
    io.stdout.write(`Report: ${outcome.markdownFile}\nData:   ${outcome.jsonFile}\n`);
    return 0;
  } catch (error) {
    if (
      error instanceof UsageError ||
      error instanceof JudgeConfigurationError ||
      error instanceof DatasetError ||
      error instanceof EvaluationError ||
      error instanceof ConfigError ||
      error instanceof DatabaseLockedError
    ) {
      io.stderr.write(`${error.message}\n`);
      return 2;
    }
    throw error;
  } finally {
    await chat?.close();
  }
}
