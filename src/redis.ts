import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from './logger.ts';

export type { Redis };

/**
 * `command`: producer-side connections (mutations, chat history, pub/sub publishing) fail fast
 * when Redis is down instead of queueing commands in memory, so the API answers with a clear
 * error. `blocking`: BullMQ workers and subscribers, which must wait and reconnect forever.
 */
export function createRedis(
  url: string,
  role: 'command' | 'blocking',
  name: string,
  tuning: { autoPipelining?: boolean } = {},
): Redis {
  const options: RedisOptions = {
    connectionName: name,
    // Commands issued in the same tick leave in one write: a burst of chunk PUBLISHes costs one syscall.
    enableAutoPipelining: tuning.autoPipelining ?? false,
    lazyConnect: false,
    maxRetriesPerRequest: role === 'blocking' ? null : 1,
    enableOfflineQueue: role === 'blocking',
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
  };
  return new Redis(url, options);
}

/** Resolves once the connection can take commands; fail-fast connections refuse commands before that. */
export async function waitUntilReady(redis: Redis, timeoutMs = 10_000): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      reject(new RedisUnavailableError(`Redis did not become ready within ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    redis.once('ready', onReady);
  });
}

async function pingOnce(url: string): Promise<boolean> {
  const probe = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 1_500,
  });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string') throw new Error('could not allocate a port');
  return address.port;
}

export class RedisUnavailableError extends Error {
  override name = 'RedisUnavailableError';
}

/**
 * Returns a Redis URL that answers. When the configured one does not and `autostart` is on, starts
 * a private `redis-server` (no persistence) for the life of this process and says so; otherwise
 * stops with the three ways to get Redis.
 */
export async function ensureRedis(options: {
  url: string;
  autostart: boolean;
  logger: Logger;
}): Promise<{ url: string; stop(): void }> {
  if (await pingOnce(options.url)) return { url: options.url, stop: () => undefined };
  if (options.autostart) {
    const port = await freePort();
    const child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: 'ignore',
      },
    );
    const started = await new Promise<boolean>((resolve) => {
      child.once('error', () => resolve(false));
      child.once('spawn', () => resolve(true));
    });
    if (started) {
      const url = `redis://127.0.0.1:${port}`;
      for (let attempt = 0; attempt < 50; attempt += 1) {
        if (await pingOnce(url)) {
          options.logger.warn(
            { url },
            `Nothing answered at ${options.url}; started a private redis-server on ${url} (no persistence, stops with this process).`,
          );
          process.once('exit', () => child.kill('SIGTERM'));
          return { url, stop: () => child.kill('SIGTERM') };
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      child.kill('SIGKILL');
    }
  }
  throw new RedisUnavailableError(
    `Redis is not reachable at ${options.url}. Get Redis in one of three ways: install it (e.g. \`apt-get install redis-server\`, then \`npm start\` starts a private one), set REDIS_URL to a running Redis 7, or run \`docker compose up redis\`.`,
  );
}
