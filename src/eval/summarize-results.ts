import type { CaseResult } from './eval-result.ts';

export interface GradeCounts {
  graded: number;
  correct: number;
  incorrect: number;
  /** No usable grade: unparseable reply or judge failure (GitLab skips these). */
  skipped: number;
  /** correct / graded; null when nothing was graded. */
  accuracy: number | null;
}

export interface JudgeAgreement {
  judges: [string, string];
  /** Cases both judges graded. */
  compared: number;
  agreed: number;
  rate: number | null;
  /** Cohen's κ: agreement corrected for chance; null when undefined (one judge always gave the same grade). */
  kappa: number | null;
}

export interface EvalSummary {
  cases: number;
  /** Cases whose answer ended `completed`. */
  completed: number;
  /** Cases that ended otherwise (provider error, refusal, failure). */
  failed: number;
  byJudge: Record<string, GradeCounts>;
  byTemplate: { template: string; cases: number; byJudge: Record<string, GradeCounts> }[];
  agreement: JudgeAgreement[];
  latencyMs: { p50: number; p95: number; max: number };
  tokens: { input: number; output: number };
  /** Cases with expected tools, and those whose answer used all of them. */
  expectedTools: { cases: number; matched: number };
}

export function countGrades(cases: readonly CaseResult[], judge: string): GradeCounts {
  let correct = 0;
  let incorrect = 0;
  for (const result of cases) {
    const grade = result.grades[judge]?.grade;
    if (grade === 'CORRECT') correct += 1;
    else if (grade === 'INCORRECT') incorrect += 1;
  }
  const graded = correct + incorrect;
  return {
    graded,
    correct,
    incorrect,
    skipped: cases.length - graded,
    accuracy: graded === 0 ? null : correct / graded,
  };
}

function agreementOf(cases: readonly CaseResult[], first: string, second: string): JudgeAgreement {
  let compared = 0;
  let agreed = 0;
  let firstCorrect = 0;
  let secondCorrect = 0;
  for (const result of cases) {
    const a = result.grades[first]?.grade;
    const b = result.grades[second]?.grade;
    if (!a || !b) continue;
    compared += 1;
    if (a === b) agreed += 1;
    if (a === 'CORRECT') firstCorrect += 1;
    if (b === 'CORRECT') secondCorrect += 1;
  }
  if (compared === 0) return { judges: [first, second], compared, agreed, rate: null, kappa: null };
  const observed = agreed / compared;
  const expected =
    (firstCorrect / compared) * (secondCorrect / compared) +
    (1 - firstCorrect / compared) * (1 - secondCorrect / compared);
  return {
    judges: [first, second],
    compared,
    agreed,
    rate: observed,
    kappa: expected === 1 ? null : (observed - expected) / (1 - expected),
  };
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)] as number;
}

/** Accuracy per judge and per template, agreement between each pair of judges, latency and tokens. */
export function summarizeResults(cases: readonly CaseResult[], judges: readonly string[]): EvalSummary {
  const templates = [...new Set(cases.map((result) => result.template))];
  const latencies = cases.map((result) => result.latencyMs).sort((left, right) => left - right);
  const withTools = cases.filter((result) => result.expectedTools && result.expectedTools.length > 0);
  return {
    cases: cases.length,
    completed: cases.filter((result) => result.status === 'completed').length,
    failed: cases.filter((result) => result.status !== 'completed').length,
    byJudge: Object.fromEntries(judges.map((judge) => [judge, countGrades(cases, judge)])),
    byTemplate: templates.map((template) => {
      const ofTemplate = cases.filter((result) => result.template === template);
      return {
        template,
        cases: ofTemplate.length,
        byJudge: Object.fromEntries(judges.map((judge) => [judge, countGrades(ofTemplate, judge)])),
      };
    }),
    agreement: judges.flatMap((first, index) =>
      judges.slice(index + 1).map((second) => agreementOf(cases, first, second)),
    ),
    latencyMs: { p50: percentile(latencies, 0.5), p95: percentile(latencies, 0.95), max: latencies.at(-1) ?? 0 },
    tokens: {
      input: cases.reduce((total, result) => total + (result.usage?.inputTokens ?? 0), 0),
      output: cases.reduce((total, result) => total + (result.usage?.outputTokens ?? 0), 0),
    },
    expectedTools: {
      cases: withTools.length,
      matched: withTools.filter((result) => result.expectedTools?.every((tool) => result.toolsUsed.includes(tool)))
        .length,
    },
  };
}

/**
 * The answers to read first: those the most judges graded INCORRECT, then failures (no answer at all); ties
 * broken by the fewest CORRECT grades.
 */
export function worstCases(cases: readonly CaseResult[], limit = 5): CaseResult[] {
  const votes = (result: CaseResult, grade: 'CORRECT' | 'INCORRECT') =>
    Object.values(result.grades).filter((verdict) => verdict.grade === grade).length;
  return cases
    .filter((result) => votes(result, 'INCORRECT') > 0 || result.status !== 'completed')
    .sort(
      (left, right) =>
        votes(right, 'INCORRECT') - votes(left, 'INCORRECT') ||
        Number(right.status !== 'completed') - Number(left.status !== 'completed') ||
        votes(left, 'CORRECT') - votes(right, 'CORRECT') ||
        left.id.localeCompare(right.id),
    )
    .slice(0, limit);
}
