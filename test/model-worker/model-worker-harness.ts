import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RecordedRequest, StandinServer } from '../helpers/standins/standin-server.ts';

const repositoryRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Counts requests the stand-in is serving at once; `max` is the peak since `track` was called. */
export function trackConcurrency(standin: StandinServer) {
  const state = { inFlight: 0, max: 0 };
  const requests = standin.requests;
  const push = requests.push.bind(requests);
  // The stand-in records each request into this array as it arrives; counting there sees every request.
  requests.push = (...items: RecordedRequest[]) => {
    for (const item of items) {
      state.inFlight++;
      state.max = Math.max(state.max, state.inFlight);
      void item.settled.then(() => {
        state.inFlight--;
      });
    }
    return push(...items);
  };
  return state;
}

/** Resolves once the stand-in has received `count` requests (polling: it has no events). */
export async function waitForRequests(standin: StandinServer, count: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (standin.requests.length < count) {
    if (Date.now() > deadline) throw new Error(`the stand-in saw ${standin.requests.length} of ${count} requests`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export interface ModelWorkerProcess {
  child: ChildProcess;
  output: string[];
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Runs `src/model-worker/start-model-worker.ts` as `npm run start:model-worker` would (node + tsx). */
export function spawnModelWorker(environment: Record<string, string>): ModelWorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/model-worker/start-model-worker.ts'], {
    cwd: repositoryRoot,
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', ...environment },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stdout?.on('data', (data: Buffer) => output.push(data.toString()));
  child.stderr?.on('data', (data: Buffer) => output.push(data.toString()));
  return {
    child,
    output,
    stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
      return new Promise((resolve) => {
        child.once('exit', (code) => resolve(code));
        child.kill(signal);
      });
    },
  };
}

/** Resolves once the process logged a line containing `text`; rejects if it exits first. */
export function waitForOutput(worker: ModelWorkerProcess, text: string, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${text}" in:\n${worker.output.join('')}`)), timeoutMs);
    const check = () => {
      if (worker.output.join('').includes(text)) {
        clearTimeout(timer);
        worker.child.stdout?.off('data', check);
        resolve();
      }
    };
    worker.child.stdout?.on('data', check);
    worker.child.once('exit', (code) => {
      clearTimeout(timer);
      if (!worker.output.join('').includes(text)) reject(new Error(`exited with ${code}:\n${worker.output.join('')}`));
    });
    check();
  });
}
