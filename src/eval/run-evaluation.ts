import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { checkpointPath, openCheckpoint, readCheckpoint } from './checkpoint.ts';
import { compareRuns, type RunComparison } from './compare-runs.ts';
import { type EvalCase, loadDataset } from './dataset.ts';
import { type CaseResult, type ChatAnswer, type EvalRun, evalRunSchema, type JudgeVerdict } from './eval-result.ts';
import type { Judge } from './judge.ts';
import { renderMarkdownReport } from './markdown-report.ts';
import { type EvalSummary, summarizeResults } from './summarize-results.ts';

export interface RunEvaluationOptions {
  /** Run name: the output files are `<outDir>/<run>.json`, `.md` and `.checkpoint.jsonl`. */
  run: string;
  outDir: string;
  /** Required for a new run; a resumed run reads it from its checkpoint. */
  datasetFile?: string;
  /** Continue the run from its checkpoint, skipping finished cases. */
  resume: boolean;
  judges: Judge[];
  /** Cases answered and judged at once (GitLab's QA ran 10). */
  concurrency: number;
  answer(evalCase: EvalCase): Promise<ChatAnswer>;
  /** Only the first N cases of the dataset. */
  limit?: number;
  /** A previous run's JSON, compared in the report. */
  baselineFile?: string;
  /** Margin and alpha of the comparison with the baseline. */
  gate?: { margin: number; alpha: number };
  /** Aborting stops taking new cases; running ones finish and are saved, and the run can be resumed. */
  signal?: AbortSignal;
  onProgress?(done: number, total: number, failed: number): void;
}

export interface EvaluationOutcome {
  /** False when the run was interrupted: only the checkpoint was written. */
  complete: boolean;
  checkpointFile: string;
  jsonFile: string;
  markdownFile: string;
  run?: EvalRun;
  summary?: EvalSummary;
  comparison?: RunComparison;
  /** Cases run by this invocation (not taken from the checkpoint). */
  ranNow: number;
}

export class EvaluationError extends Error {
  override name = 'EvaluationError';
}

/** Reads a run's JSON file (a baseline or a candidate), validated. */
export async function readEvalRun(file: string): Promise<EvalRun> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new EvaluationError(`Cannot read ${file}: ${(error as Error).message}`);
  }
  const parsed = evalRunSchema.safeParse(json);
  if (!parsed.success)
    throw new EvaluationError(`${file} is not an evaluation run: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

async function judgeAnswer(
  judges: Judge[],
  evalCase: EvalCase,
  answer: ChatAnswer,
): Promise<Record<string, JudgeVerdict>> {
  // No answer at all is wrong whoever grades it; judges are not paid to say so.
  if (answer.answer.trim() === '') {
    const verdict: JudgeVerdict = {
      grade: 'INCORRECT',
      explanation: `No answer (${answer.status}): ${answer.errors.join('; ') || 'empty'}`,
      latencyMs: 0,
    };
    return Object.fromEntries(judges.map((judge) => [judge.name, verdict]));
  }
  const verdicts = await Promise.all(judges.map((judge) => judge.grade(evalCase, answer.answer)));
  return Object.fromEntries(judges.map((judge, index) => [judge.name, verdicts[index] as JudgeVerdict]));
}

/**
 * GitLab's QA evaluation loop (reference §10.3): each case is answered through the chat path, graded by every
 * judge, and appended to the checkpoint as soon as it is done, `concurrency` at a time. When every case is done,
 * the run's JSON and Markdown report are written.
 */
export async function runEvaluation(options: RunEvaluationOptions): Promise<EvaluationOutcome> {
  const checkpointFile = checkpointPath(options.outDir, options.run);
  const jsonFile = path.join(options.outDir, `${options.run}.json`);
  const markdownFile = path.join(options.outDir, `${options.run}.md`);
  const judgeDescriptions = options.judges.map((judge) => ({ name: judge.name, model: judge.model }));
  let datasetFile = options.datasetFile;
  let startedAt = new Date().toISOString();
  const done = new Map<string, CaseResult>();
  if (options.resume) {
    if (!existsSync(checkpointFile))
      throw new EvaluationError(`No checkpoint for run ${options.run}: ${checkpointFile}`);
    const previous = await readCheckpoint(checkpointFile);
    if (datasetFile && path.resolve(datasetFile) !== path.resolve(previous.header.dataset)) {
      throw new EvaluationError(`Run ${options.run} used dataset ${previous.header.dataset}, not ${datasetFile}`);
    }
    const judgesBefore = previous.header.judges.map((judge) => judge.name).join(',');
    if (judgesBefore !== judgeDescriptions.map((judge) => judge.name).join(',')) {
      throw new EvaluationError(`Run ${options.run} was judged by ${judgesBefore}; resume it with the same judges`);
    }
    datasetFile = previous.header.dataset;
    startedAt = previous.header.startedAt;
    for (const result of previous.results) done.set(result.id, result);
  } else {
    if (!datasetFile) throw new EvaluationError('A dataset is required (--dataset <file>)');
    if (existsSync(checkpointFile) || existsSync(jsonFile)) {
      throw new EvaluationError(
        `Run ${options.run} exists already: resume it with --resume ${options.run}, or choose --run`,
      );
    }
  }
  const dataset = path.resolve(datasetFile as string);
  const cases = (await loadDataset(dataset)).slice(0, options.limit);
  const checkpoint = await openCheckpoint(
    checkpointFile,
    options.resume ? undefined : { type: 'run', run: options.run, dataset, judges: judgeDescriptions, startedAt },
  );
  const todo = cases.filter((evalCase) => !done.has(evalCase.id));
  const failedCount = () => [...done.values()].filter((result) => result.status !== 'completed').length;
  let finishedCount = cases.length - todo.length;
  options.onProgress?.(finishedCount, cases.length, failedCount());

  let next = 0;
  let ranNow = 0;
  const worker = async () => {
    while (next < todo.length && !options.signal?.aborted) {
      const evalCase = todo[next++] as EvalCase;
      const answer = await options.answer(evalCase).catch(
        (error: unknown): ChatAnswer => ({
          answer: '',
          status: 'failed',
          errors: [error instanceof Error ? error.message : String(error)],
          toolsUsed: [],
          sources: [],
          model: null,
          usage: null,
          latencyMs: 0,
        }),
      );
      const result: CaseResult = {
        id: evalCase.id,
        template: evalCase.template,
        question: evalCase.question,
        resourceId: evalCase.resourceId,
        referenceAnswer: evalCase.referenceAnswer,
        expectedTools: evalCase.expectedTools,
        ...answer,
        grades: await judgeAnswer(options.judges, evalCase, answer),
      };
      await checkpoint.append(result);
      done.set(result.id, result);
      ranNow += 1;
      finishedCount += 1;
      options.onProgress?.(finishedCount, cases.length, failedCount());
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency, todo.length)) }, worker));

  const outcome = { checkpointFile, jsonFile, markdownFile, ranNow };
  if (finishedCount < cases.length) return { ...outcome, complete: false };
  const results = cases.map((evalCase) => done.get(evalCase.id) as CaseResult);
  const summary = summarizeResults(
    results,
    judgeDescriptions.map((judge) => judge.name),
  );
  const run: EvalRun = {
    version: 1,
    run: options.run,
    dataset,
    startedAt,
    finishedAt: new Date().toISOString(),
    judges: judgeDescriptions,
    cases: results,
    summary,
  };
  let baseline: { run: string; comparison: RunComparison } | undefined;
  if (options.baselineFile) {
    const baselineRun = await readEvalRun(options.baselineFile);
    baseline = {
      run: baselineRun.run,
      comparison: compareRuns(baselineRun, run, options.gate ?? { margin: 0.05, alpha: 0.05 }),
    };
  }
  await mkdir(options.outDir, { recursive: true });
  await writeFile(jsonFile, `${JSON.stringify(run, null, 2)}\n`);
  await writeFile(markdownFile, renderMarkdownReport(run, summary, baseline));
  return { ...outcome, complete: true, run, summary, ...(baseline ? { comparison: baseline.comparison } : {}) };
}
