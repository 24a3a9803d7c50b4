import { parseArgs } from 'node:util';
import { CompareError, compareRuns } from './compare-runs.ts';
import { EvaluationError, readEvalRun } from './run-evaluation.ts';

export const evalCompareUsage = `Usage: npm run eval:compare -- <baseline.json> <candidate.json> [--margin 0.05] [--alpha 0.05] [--judge <name>]...

Exits 1 when, for some judge, accuracy on the paired cases dropped by more than --margin and the exact
McNemar test gives p < --alpha; 0 otherwise; 2 on bad usage.
`;

const percent = (value: number | null) => (value === null ? '–' : `${(value * 100).toFixed(1)} %`);

/** `npm run eval:compare`: the release gate between two `eval:chat` runs. Returns the exit code. */
export async function runEvalCompareCommand(
  argv: string[],
  io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream },
): Promise<number> {
  let parsed: ReturnType<typeof parseArguments>;
  try {
    parsed = parseArguments(argv);
  } catch (error) {
    io.stderr.write(`${(error as Error).message}\n\n${evalCompareUsage}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const margin = Number(values.margin);
  const alpha = Number(values.alpha);
  if (positionals.length !== 2 || !(margin >= 0 && margin <= 1) || !(alpha > 0 && alpha <= 1)) {
    io.stderr.write(evalCompareUsage);
    return 2;
  }
  try {
    const [baseline, candidate] = await Promise.all(positionals.map((file) => readEvalRun(file)));
    if (!baseline || !candidate) return 2;
    const comparison = compareRuns(baseline, candidate, {
      margin,
      alpha,
      ...(values.judge?.length ? { judges: values.judge } : {}),
    });
    io.stdout.write(`Baseline ${baseline.run} → candidate ${candidate.run} (margin ${margin}, alpha ${alpha})\n`);
    for (const judge of comparison.judges) {
      io.stdout.write(
        `  ${judge.judge.padEnd(10)} ${percent(judge.baselineAccuracy)} → ${percent(judge.candidateAccuracy)} on ${judge.paired} paired cases; ${judge.regressions} regressions, ${judge.improvements} improvements; McNemar p = ${judge.pValue.toPrecision(3)}: ${judge.blocked ? 'BLOCKED' : 'pass'}\n`,
      );
    }
    io.stdout.write(
      comparison.passed
        ? 'PASS: no significant accuracy drop beyond the margin.\n'
        : 'FAIL: accuracy dropped beyond the margin, and the drop is significant.\n',
    );
    return comparison.passed ? 0 : 1;
  } catch (error) {
    if (error instanceof EvaluationError || error instanceof CompareError) {
      io.stderr.write(`${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

function parseArguments(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      margin: { type: 'string', default: '0.05' },
      alpha: { type: 'string', default: '0.05' },
      judge: { type: 'string', multiple: true },
    },
  });
}
