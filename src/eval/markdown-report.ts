import type { RunComparison } from './compare-runs.ts';
import type { EvalRun } from './eval-result.ts';
import { type EvalSummary, type GradeCounts, worstCases } from './summarize-results.ts';

const percent = (value: number | null) => (value === null ? '–' : `${(value * 100).toFixed(1)} %`);
const signedPoints = (value: number) => `${value > 0 ? '+' : ''}${(value * 100).toFixed(1)} pts`;
/** One line of table text: pipes escaped, newlines flattened, long text cut. */
function cell(text: string, length = 400): string {
  const flat = text.replace(/\s+/g, ' ').trim().replaceAll('|', '\\|');
  return flat.length > length ? `${flat.slice(0, length - 1)}…` : flat;
}
const counts = (grades: GradeCounts | undefined) =>
  !grades || grades.graded === 0 ? '–' : `${grades.correct}/${grades.graded} (${percent(grades.accuracy)})`;

function durationOf(run: EvalRun): string {
  const seconds = Math.max(0, Math.round((Date.parse(run.finishedAt) - Date.parse(run.startedAt)) / 1_000));
  return seconds >= 60 ? `${Math.floor(seconds / 60)} min ${seconds % 60} s` : `${seconds} s`;
}

/**
 * The human report of a run: accuracy per judge and per template, agreement between judges, the answers to
 * read first, and, given a baseline, the release gate's comparison.
 */
export function renderMarkdownReport(
  run: EvalRun,
  summary: EvalSummary,
  baseline?: { run: string; comparison: RunComparison },
): string {
  const judges = run.judges.map((judge) => judge.name);
  const answeredBy = [...new Set(run.cases.map((result) => result.model).filter(Boolean))].join(', ') || 'nothing';
  const lines: string[] = [
    `# Duo Chat evaluation \`${run.run}\``,
    '',
    `- Dataset: \`${run.dataset}\`, ${summary.cases} cases`,
    `- Answered by: ${answeredBy}`,
    `- Judges: ${run.judges.map((judge) => `${judge.name} (\`${judge.model}\`)`).join(', ') || 'none'}`,
    `- Run: ${run.startedAt} → ${run.finishedAt} (${durationOf(run)})`,
    '',
    '## Accuracy by judge',
    '',
    '| judge | correct | incorrect | skipped | accuracy |',
    '|---|---:|---:|---:|---:|',
    ...judges.map((judge) => {
      const grades = summary.byJudge[judge];
      return `| ${judge} | ${grades?.correct ?? 0} | ${grades?.incorrect ?? 0} | ${grades?.skipped ?? 0} | ${percent(grades?.accuracy ?? null)} |`;
    }),
    '',
    'Skipped: the judge gave no `Grade: CORRECT` or `Grade: INCORRECT`, or failed; skipped cases are not counted.',
    '',
    '## Accuracy by template',
    '',
    `| template | cases | ${judges.join(' | ')} |`,
    `|---|---:|${judges.map(() => '---:|').join('')}`,
    ...summary.byTemplate.map(
      (template) =>
        `| ${cell(template.template, 80)} | ${template.cases} | ${judges.map((judge) => counts(template.byJudge[judge])).join(' | ')} |`,
    ),
    '',
  ];
  if (summary.agreement.length > 0) {
    lines.push(
      '## Agreement between judges',
      '',
      "| judges | both graded | agreed | agreement | Cohen's κ |",
      '|---|---:|---:|---:|---:|',
      ...summary.agreement.map(
        (agreement) =>
          `| ${agreement.judges.join(' / ')} | ${agreement.compared} | ${agreement.agreed} | ${percent(agreement.rate)} | ${agreement.kappa === null ? '–' : agreement.kappa.toFixed(2)} |`,
      ),
      '',
    );
  }
  lines.push(
    '## Answers',
    '',
    `- Completed: ${summary.completed} of ${summary.cases}; failed or refused: ${summary.failed}`,
    `- Latency: p50 ${summary.latencyMs.p50} ms, p95 ${summary.latencyMs.p95} ms, max ${summary.latencyMs.max} ms`,
    `- Tokens: ${summary.tokens.input} in, ${summary.tokens.output} out`,
    `- Expected tool used: ${summary.expectedTools.matched} of ${summary.expectedTools.cases} cases`,
    '',
  );
  const worst = worstCases(run.cases);
  lines.push('## Worst answers', '');
  if (worst.length === 0) lines.push('No answer was graded INCORRECT and none failed.', '');
  for (const result of worst) {
    const incorrect = Object.values(result.grades).filter((verdict) => verdict.grade === 'INCORRECT').length;
    lines.push(
      `### \`${result.id}\`: ${incorrect} × INCORRECT${result.status === 'completed' ? '' : `, status ${result.status}`}`,
      '',
      `- Question: ${cell(result.question)}`,
      `- Answer: ${result.answer ? cell(result.answer) : `(none) ${cell(result.errors.join('; '))}`}`,
      `- Reference: ${cell(result.referenceAnswer)}`,
      `- Tools used: ${result.toolsUsed.join(', ') || 'none'}${result.expectedTools ? ` (expected ${result.expectedTools.join(', ')})` : ''}`,
      ...Object.entries(result.grades).map(
        ([judge, verdict]) =>
          `- ${judge}: ${verdict.grade ?? `skipped (${verdict.error ?? 'no grade'})`}${verdict.explanation ? `: ${cell(verdict.explanation, 300)}` : ''}`,
      ),
      '',
    );
  }
  if (baseline) {
    const { comparison } = baseline;
    lines.push(
      `## Compared with \`${baseline.run}\``,
      '',
      `Gate: block when accuracy drops by more than ${(comparison.margin * 100).toFixed(1)} points and the exact McNemar test gives p < ${comparison.alpha}.`,
      '',
      '| judge | paired cases | baseline | this run | change | regressions | improvements | McNemar p | gate |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---|',
      ...comparison.judges.map(
        (judge) =>
          `| ${judge.judge} | ${judge.paired} | ${percent(judge.baselineAccuracy)} | ${percent(judge.candidateAccuracy)} | ${signedPoints(-judge.drop)} | ${judge.regressions} | ${judge.improvements} | ${judge.pValue.toPrecision(3)} | ${judge.blocked ? 'BLOCKED' : 'pass'} |`,
      ),
      '',
      comparison.passed ? 'Gate: **pass**.' : 'Gate: **blocked**: a significant drop larger than the margin.',
      '',
    );
  }
  return `${lines.join('\n').trimEnd()}\n`;
}
