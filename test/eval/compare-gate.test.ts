import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compareRuns } from '../../src/eval/compare-runs.ts';
import { runEvalCompareCommand } from '../../src/eval/eval-compare-command.ts';
import type { CaseResult, EvalRun } from '../../src/eval/eval-result.ts';
import { parseGrade } from '../../src/eval/judge.ts';

const folder = mkdtempSync(path.join(tmpdir(), 'eval-compare-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

/** A run of `grades.length` cases; each string gives one case's grade per judge, `C`/`I`/`-` (skipped). */
function crafted(name: string, grades: Record<string, string>): EvalRun {
  const judges = Object.keys(grades);
  const count = Math.max(...Object.values(grades).map((sequence) => sequence.length));
  const cases: CaseResult[] = Array.from({ length: count }, (_, index) => ({
    id: `case-${index}`,
    template: index % 2 === 0 ? 'Summarize this issue' : 'What is the status of %<url>s?',
    question: `question ${index}`,
    resourceId: null,
    referenceAnswer: 'reference',
    expectedTools: null,
    answer: 'answer',
    status: 'completed',
    errors: [],
    toolsUsed: [],
    sources: [],
    model: 'fake:fake-model',
    usage: null,
    latencyMs: 10,
    grades: Object.fromEntries(
      judges.map((judge) => {
        const mark = grades[judge]?.[index] ?? '-';
        const grade = mark === 'C' ? 'CORRECT' : mark === 'I' ? 'INCORRECT' : null;
        return [judge, { grade, explanation: '', latencyMs: 1, ...(grade ? {} : { error: 'unparseable' }) }];
      }),
    ),
  }));
  return {
    version: 1,
    run: name,
    dataset: 'crafted.jsonl',
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:01:00.000Z',
    judges: judges.map((judge) => ({ name: judge, model: 'm' })),
    cases,
    summary: {},
  };
}

function save(run: EvalRun): string {
  const file = path.join(folder, `${run.run}.json`);
  writeFileSync(file, JSON.stringify(run));
  return file;
}

const allCorrect = 'C'.repeat(30);
const baseline = crafted('baseline', { anthropic: allCorrect, vertex: allCorrect });
// Ten regressions out of thirty, for both judges: −33 points, McNemar p = 2/1024.
const worse = crafted('worse', {
  anthropic: `${'I'.repeat(10)}${'C'.repeat(20)}`,
  vertex: `${'I'.repeat(10)}${'C'.repeat(20)}`,
});
// Two regressions: −6.7 points, beyond the margin but p = 0.5: noise, not evidence.
const slightlyWorse = crafted('slightly-worse', { anthropic: `II${'C'.repeat(28)}`, vertex: allCorrect });

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

describe('the release gate (eval:compare)', () => {
  it('blocks a significant drop beyond the margin', () => {
    const comparison = compareRuns(baseline, worse, { margin: 0.05, alpha: 0.05 });
    expect(comparison.passed).toBe(false);
    expect(comparison.judges[0]).toMatchObject({
      judge: 'anthropic',
      paired: 30,
      baselineAccuracy: 1,
      regressions: 10,
      improvements: 0,
      blocked: true,
    });
    expect(comparison.judges[0]?.drop).toBeCloseTo(1 / 3, 12);
    expect(comparison.judges[0]?.pValue).toBeCloseTo(2 / 1024, 12);
  });

  it('passes a drop that is not significant, a drop within the margin, and an improvement', () => {
    const noisy = compareRuns(baseline, slightlyWorse, { margin: 0.05, alpha: 0.05 });
    expect(noisy.judges[0]).toMatchObject({ regressions: 2, blocked: false, pValue: 0.5 });
    expect(noisy.passed).toBe(true);
    // Within a 40-point margin even the large drop passes; reversed, it is an improvement.
    expect(compareRuns(baseline, worse, { margin: 0.4, alpha: 0.05 }).passed).toBe(true);
    expect(compareRuns(worse, baseline, { margin: 0.05, alpha: 0.05 }).passed).toBe(true);
    // A stricter alpha makes the same data insufficient.
    expect(compareRuns(baseline, worse, { margin: 0.05, alpha: 0.001 }).passed).toBe(true);
  });

  it('pairs only cases both runs graded with the judge', () => {
    const skipped = crafted('skipped', { anthropic: `--${'I'.repeat(8)}${'C'.repeat(20)}`, vertex: allCorrect });
    const comparison = compareRuns(baseline, skipped, { margin: 0.05, alpha: 0.05, judges: ['anthropic'] });
    expect(comparison.judges).toHaveLength(1);
    expect(comparison.judges[0]).toMatchObject({ paired: 28, regressions: 8 });
    expect(() => compareRuns(baseline, crafted('other', { fake: allCorrect }), { margin: 0.05, alpha: 0.05 })).toThrow(
      'no judge in common',
    );
  });

  it('exits 1 when blocked, 0 when it passes, 2 on bad usage', async () => {
    const [baselineFile, worseFile, slightFile] = [baseline, worse, slightlyWorse].map(save) as [
      string,
      string,
      string,
    ];
    const blocked = capture();
    expect(
      await runEvalCompareCommand([baselineFile, worseFile], { stdout: blocked.stream, stderr: blocked.stream }),
    ).toBe(1);
    expect(blocked.text()).toContain('anthropic  100.0 % → 66.7 % on 30 paired cases; 10 regressions');
    expect(blocked.text()).toContain('FAIL');
    const passed = capture();
    expect(
      await runEvalCompareCommand([baselineFile, slightFile], { stdout: passed.stream, stderr: passed.stream }),
    ).toBe(0);
    expect(passed.text()).toContain('PASS');
    const relaxed = capture();
    expect(
      await runEvalCompareCommand([baselineFile, worseFile, '--margin', '0.5'], {
        stdout: relaxed.stream,
        stderr: relaxed.stream,
      }),
    ).toBe(0);
    const usage = capture();
    expect(await runEvalCompareCommand([baselineFile], { stdout: usage.stream, stderr: usage.stream })).toBe(2);
    expect(
      await runEvalCompareCommand([baselineFile, path.join(folder, 'missing.json')], {
        stdout: usage.stream,
        stderr: usage.stream,
      }),
    ).toBe(2);
  });

  it('npm run eval:compare sets the exit code of the process', () => {
    const [baselineFile, worseFile] = [baseline, worse].map(save) as [string, string];
    const result = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'scripts/eval-compare.ts', baselineFile, worseFile],
      {
        encoding: 'utf8',
      },
    );
    expect(result.status).toBe(1);
    expect(result.stdout).toContain('BLOCKED');
  });
});

describe('parseGrade', () => {
  it("reads GitLab's Grade line and skips what it cannot read", () => {
    expect(parseGrade('Grade: CORRECT\nExplanation: matches')).toBe('CORRECT');
    expect(parseGrade('grade: incorrect\nExplanation: wrong author')).toBe('INCORRECT');
    expect(parseGrade('**Grade:** INCORRECT')).toBe('INCORRECT');
    expect(parseGrade('The answer is fine.')).toBeNull();
    // The format line echoed back is not a grade.
    expect(parseGrade('Reply with Grade: CORRECT or INCORRECT')).toBeNull();
    // Both grades: ambiguous, skipped.
    expect(parseGrade('Grade: CORRECT\n...\nGrade: INCORRECT')).toBeNull();
    expect(parseGrade('Grade: CORRECTLY')).toBeNull();
  });
});
