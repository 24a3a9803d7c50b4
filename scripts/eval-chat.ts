// `npm run eval:chat -- --dataset <file> [--judges anthropic,vertex] [--concurrency 10] [--resume <run>]`:
// answers a dataset through Duo Chat's real path and grades the answers with LLM judges (docs/evaluation.md).
import { runEvalChatCommand } from '../src/eval/eval-chat-command.ts';

const interrupt = new AbortController();
process.on('SIGINT', () => {
  if (interrupt.signal.aborted) process.exit(130); // a second Ctrl-C does not wait for running cases
  process.stderr.write('\nStopping after the running cases (Ctrl-C again to quit now)…\n');
  interrupt.abort();
});
process.exitCode = await runEvalChatCommand(process.argv.slice(2), {
  environment: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
  signal: interrupt.signal,
});
// Flag reloads and provider clients keep timers; the run is over.
process.exit();
