import type { Redis } from 'ioredis';
import {
  type JobPart,
  jobStreamKey,
  partField,
  protocolKeyTtlMs,
} from '../llm/providers/model-worker/model-worker-protocol.ts';

export interface JobStreamWriter {
  /** Appends one part to the job's stream, in call order. */
  write(part: JobPart): Promise<void>;
}

/**
 * Writes one job's parts to its Redis stream. Only `started` creates the stream (and sets its TTL); every later
 * part uses `NOMKSTREAM`, so once the caller has deleted the stream (it finished, gave up or was cancelled) what a
 * worker still writes before its abort lands is dropped instead of re-creating a key nobody reads. The terminal
 * part refreshes the TTL, for answers that stream longer than it.
 */
export function createJobStreamWriter(redis: Redis, keyPrefix: string, jobId: string): JobStreamWriter {
  const key = jobStreamKey(keyPrefix, jobId);
  return {
    async write(part) {
      const json = JSON.stringify(part);
      if (part.type === 'started') {
        await redis.multi().xadd(key, '*', partField, json).pexpire(key, protocolKeyTtlMs).exec();
      } else if (part.type === 'text-delta') {
        await redis.xadd(key, 'NOMKSTREAM', '*', partField, json);
      } else {
        await redis.multi().xadd(key, 'NOMKSTREAM', '*', partField, json).pexpire(key, protocolKeyTtlMs).exec();
      }
    },
  };
}
