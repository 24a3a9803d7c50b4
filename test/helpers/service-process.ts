import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repositoryRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface ServiceProcess {
  child: ChildProcess;
  /** The API's port, read from its start-up log line. */
  port?: number;
  output: string[];
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts `npm run start:api` or `start:worker` as a real child process (node + tsx, as npm would)
 * and resolves once its start-up line says it is ready.
 */
export async function startServiceProcess(
  entry: 'src/start-api.ts' | 'src/start-worker.ts' | 'src/main.ts' | 'bench/floor-server.ts',
  environment: Record<string, string>,
  timeoutMs = 60_000,
): Promise<ServiceProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: repositoryRoot,
    env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'info', ...environment },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const service: ServiceProcess = {
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
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${entry} did not start:\n${output.join('')}`)), timeoutMs);
    const onData = (data: Buffer) => {
      const text = data.toString();
      output.push(text);
      for (const line of text.split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          const record = JSON.parse(line) as { msg?: string; port?: number };
          if (record.msg?.startsWith('API listening')) {
            service.port = record.port;
            if (entry !== 'src/main.ts' || output.join('').includes('worker ready')) {
              clearTimeout(timer);
              resolve();
            }
          } else if (record.msg?.startsWith('worker ready') && entry === 'src/start-worker.ts') {
            clearTimeout(timer);
            resolve();
          }
        } catch {
          // not a log line
        }
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (data: Buffer) => output.push(data.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${entry} exited with ${code}:\n${output.join('')}`));
    });
  });
  return service;
}
