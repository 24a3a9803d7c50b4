import type { CaseResult } from './eval-result.ts';
import { exactMcNemar } from './mcnemar.ts';

export interface CompareOptions {
  /** Largest accepted drop in accuracy (0.05 = five points). */
  margin: number;
  /** Significance level of the McNemar test. */
  alpha: number;
  /** Judges to compare; default: every judge both runs have. */
  judges?: readonly string[];
}

export interface JudgeComparison {
  judge: string;
  /** Cases both runs have and this judge graded in both. */
  paired: number;
  baselineAccuracy: number | null;
  candidateAccuracy: number | null;
  /** baseline − candidate accuracy on the paired cases; positive is worse. */
  drop: number;
  /** Paired cases CORRECT in the baseline and INCORRECT in the candidate. */
  regressions: number;
  improvements: number;
  pValue: number;
  /** The drop is larger than the margin and significant. */
  blocked: boolean;
}

export interface RunComparison {
  margin: number;
  alpha: number;
  judges: JudgeComparison[];
  /** True unless some judge saw a significant drop larger than the margin. */
  passed: boolean;
}

export class CompareError extends Error {
  override name = 'CompareError';
}

/**
 * The release gate: for each judge, pairs the cases both runs answered and graded, and blocks when accuracy
 * dropped by more than `margin` and the exact McNemar test says the drop is unlikely to be chance (p < alpha).
 * A large drop on few cases is not significant and passes: the gate asks for data, not noise.
 */
export function compareRuns(
  baseline: { cases: readonly CaseResult[] },
  candidate: { cases: readonly CaseResult[] },
  options: CompareOptions,
): RunComparison {
  const judgesOf = (cases: readonly CaseResult[]) => new Set(cases.flatMap((result) => Object.keys(result.grades)));
  const candidateJudges = judgesOf(candidate.cases);
  const common = [...judgesOf(baseline.cases)].filter((judge) => candidateJudges.has(judge));
  const judges = options.judges ?? common;
  if (judges.length === 0) throw new CompareError('The two runs have no judge in common: nothing to compare.');
  const missing = judges.filter((judge) => !common.includes(judge));
  if (missing.length > 0) throw new CompareError(`Judge ${missing.join(', ')} did not grade both runs.`);
  const candidateById = new Map(candidate.cases.map((result) => [result.id, result]));
  const comparisons = judges.map((judge): JudgeComparison => {
    let paired = 0;
    let baselineCorrect = 0;
    let candidateCorrect = 0;
    let regressions = 0;
    let improvements = 0;
    for (const before of baseline.cases) {
      const gradeBefore = before.grades[judge]?.grade;
      const gradeAfter = candidateById.get(before.id)?.grades[judge]?.grade;
      if (!gradeBefore || !gradeAfter) continue;
      paired += 1;
      if (gradeBefore === 'CORRECT') baselineCorrect += 1;
      if (gradeAfter === 'CORRECT') candidateCorrect += 1;
      if (gradeBefore === 'CORRECT' && gradeAfter === 'INCORRECT') regressions += 1;
      if (gradeBefore === 'INCORRECT' && gradeAfter === 'CORRECT') improvements += 1;
    }
    const baselineAccuracy = paired === 0 ? null : baselineCorrect / paired;
    const candidateAccuracy = paired === 0 ? null : candidateCorrect / paired;
    const drop = paired === 0 ? 0 : (baselineCorrect - candidateCorrect) / paired;
    const { pValue } = exactMcNemar(regressions, improvements);
    return {
      judge,
      paired,
      baselineAccuracy,
      candidateAccuracy,
      drop,
      regressions,
      improvements,
      pValue,
      blocked: drop > options.margin && pValue < options.alpha,
    };
  });
  return {
    margin: options.margin,
    alpha: options.alpha,
    judges: comparisons,
    passed: comparisons.every((comparison) => !comparison.blocked),
  };
}
