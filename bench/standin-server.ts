// The OpenAI-compatible stand-in (test/helpers/standins/openai-compatible-standin.ts) as a process of its own, for
// `npm run bench:completions`: the zero-latency upstream that both the product's self-hosted provider and the peer
// gateway proxy to. Prints `PORT <n>` once listening; then answers one line per command read on stdin:
//   LAST  -> `LAST <json>`: method, path, headers and parsed body of the most recent request it received
//   STATS -> `STATS <json>`: `{ "total": <requests received since start> }`
// The helper records every request for tests; under load that list would grow by ~100,000 bodies a run, so it is
// emptied every 250 ms (the last one is kept for LAST). Stops on SIGTERM, or when stdin closes.
import { createInterface } from 'node:readline';
import { startOpenAICompatibleStandin } from '../test/helpers/standins/openai-compatible-standin.ts';
import type { RecordedRequest } from '../test/helpers/standins/standin-server.ts';

const standin = await startOpenAICompatibleStandin();
let total = 0;
let last: RecordedRequest | undefined;

function drain(): void {
  if (standin.requests.length === 0) return;
  total += standin.requests.length;
  last = standin.requests.at(-1);
  standin.requests.length = 0;
}

const timer = setInterval(drain, 250);

createInterface({ input: process.stdin })
  .on('line', (line) => {
    drain();
    const command = line.trim();
    if (command === 'LAST') {
      const summary = last && { method: last.method, path: last.path, headers: last.headers, body: last.body };
      process.stdout.write(`LAST ${JSON.stringify(summary ?? null)}\n`);
    } else if (command === 'STATS') {
      process.stdout.write(`STATS ${JSON.stringify({ total })}\n`);
    }
  })
  .on('close', () => {
    // The bench (our parent) went away without stopping us: do not outlive it.
    process.exit(0);
  });

process.once('SIGTERM', () => {
  clearInterval(timer);
  void standin.close().finally(() => process.exit(0));
});

process.stdout.write(`PORT ${new URL(standin.url).port}\n`);
