// `npm run eval:compare -- <baseline.json> <candidate.json> [--margin 0.05] [--alpha 0.05]`: the release gate.
import { runEvalCompareCommand } from '../src/eval/eval-compare-command.ts';

process.exitCode = await runEvalCompareCommand(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
});
