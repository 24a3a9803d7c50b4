import type { Redis } from 'ioredis';
import { type JobPart, jobPartSchema, partField } from './model-worker-protocol.ts';

/** The parts of one followed job stream, in stream order. */
export interface JobStreamFollower {
  /** Resolves with the next part; parts that arrived earlier are buffered, none is skipped or reordered. */
  next(): Promise<JobPart>;
  /** Stops following; the stream key itself is left to the caller. */
  stop(): void;
}

export interface JobStreamReader {
  /** Follows a stream from its first entry, so entries written before this call are read too. */
  follow(key: string): JobStreamFollower;
  /** Stops the read loop and closes both connections. */
  close(): Promise<void>;
}

/**
 * How long one XREAD blocks when nothing arrives. New streams interrupt it (CLIENT UNBLOCK), so this only bounds
 * how long a stopped stream stays in the XREAD key list: a few seconds costs nothing and keeps the loop idle.
 */
const blockMs = 5_000;
/** Entries per stream per XREAD: enough to drain a fast model's burst in one round trip. */
const entriesPerRead = 256;
/** Pause after a failed XREAD (Redis down or reconnecting), so a dead server is not hammered in a tight loop. */
const retryAfterErrorMs = 200;

interface Followed {
  lastId: string;
  buffer: JobPart[];
  waiter: ((part: JobPart) => void) | undefined;
}

function decodeEntry(fields: string[]): JobPart {
  for (let index = 0; index + 1 < fields.length; index += 2) {
    if (fields[index] !== partField) continue;
    try {
      const parsed = jobPartSchema.safeParse(JSON.parse(fields[index + 1] ?? ''));
      if (parsed.success) return parsed.data;
    } catch {
      // Not JSON: reported below like any other malformed entry.
    }
  }
  return { type: 'error', code: 'unavailable', message: 'The model worker wrote a malformed stream entry.' };
}

/**
 * Reads many job streams over ONE blocking connection: a single `XREAD BLOCK … STREAMS k1 k2 …` covers every
 * stream being followed, so a hundred concurrent answers cost one connection, not a hundred. When a stream is
 * added the pending XREAD is interrupted with `CLIENT UNBLOCK` from the command connection, so a new answer's
 * first token is never delayed by the block timeout.
 */
export function createJobStreamReader(blocking: Redis, command: Redis): JobStreamReader {
  const followed = new Map<string, Followed>();
  let closed = false;
  let clientId: number | undefined;
  /** Bumped on every `follow`; the loop records which generation its pending XREAD covers. */
  let generation = 0;
  /** Generation of the key list of the XREAD in flight; -1 between reads (the next read sees every key). */
  let inFlightGeneration = -1;
  let wakeIdle: (() => void) | undefined;
  let waking = false;
  let wakeRequested = false;

  // A reconnect gives the connection a new client id; the loop asks again before its next read.
  blocking.on('close', () => {
    clientId = undefined;
  });

  function deliver(entry: Followed, part: JobPart): void {
    const waiter = entry.waiter;
    if (waiter) {
      entry.waiter = undefined;
      waiter(part);
    } else {
      entry.buffer.push(part);
    }
  }

  async function readLoop(): Promise<void> {
    while (!closed) {
      if (followed.size === 0) {
        await new Promise<void>((resolve) => {
          wakeIdle = resolve;
        });
        continue;
      }
      const keys = [...followed.keys()];
      const ids = keys.map((key) => followed.get(key)?.lastId ?? '0');
      let reply: [string, [string, string[]][]][] | null;
      try {
        clientId ??= Number(await blocking.client('ID'));
        inFlightGeneration = generation;
        reply = (await blocking.xread(
          'COUNT',
          entriesPerRead,
          'BLOCK',
          blockMs,
          'STREAMS',
          ...keys,
          ...ids,
        )) as typeof reply;
      } catch {
        inFlightGeneration = -1;
        if (closed) return;
        await new Promise((resolve) => setTimeout(resolve, retryAfterErrorMs));
        continue;
      }
      inFlightGeneration = -1;
      for (const [key, entries] of reply ?? []) {
        const entry = followed.get(key);
        if (!entry) continue;
        for (const [id, fields] of entries) {
          entry.lastId = id;
          deliver(entry, decodeEntry(fields));
        }
      }
    }
  }

  /** Makes sure the loop's next XREAD includes every followed key, interrupting the pending one if needed. */
  async function wake(): Promise<void> {
    wakeRequested = true;
    if (wakeIdle) {
      const resolve = wakeIdle;
      wakeIdle = undefined;
      resolve();
    }
    if (waking) return;
    waking = true;
    try {
      while (wakeRequested && !closed) {
        wakeRequested = false;
        // UNBLOCK can reach Redis before the XREAD it targets (the loop built it but Redis has not run it yet);
        // it then unblocks nothing, so it is repeated until the loop reports a read that covers the new key.
        while (!closed && inFlightGeneration !== -1 && inFlightGeneration < generation) {
          if (clientId !== undefined) await command.client('UNBLOCK', clientId).catch(() => 0);
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
    } finally {
      waking = false;
    }
  }

  const loop = readLoop();

  return {
    follow(key) {
      const entry: Followed = { lastId: '0', buffer: [], waiter: undefined };
      followed.set(key, entry);
      generation++;
      void wake();
      return {
        next() {
          const buffered = entry.buffer.shift();
          if (buffered) return Promise.resolve(buffered);
          return new Promise<JobPart>((resolve) => {
            entry.waiter = resolve;
          });
        },
        stop() {
          if (followed.get(key) === entry) followed.delete(key);
        },
      };
    },
    async close() {
      closed = true;
      wakeIdle?.();
      blocking.disconnect();
      await loop;
    },
  };
}
