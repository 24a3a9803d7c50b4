import type { Database } from '../db/client.ts';
import { type TrackingEvent, trackingEvents } from '../db/schema/tracking-events.ts';
import type { Logger } from '../logger.ts';

export interface EventTracker {
  /** Queues an event; it is written with others in the next batch, never on the request's path. */
  track(event: TrackingEvent): void;
  /** Writes what is queued now. */
  flush(): Promise<void>;
  /** Flushes and stops the timer. */
  close(): Promise<void>;
}

/**
 * Events are buffered and inserted in batches: every `flushIntervalMs` (1 s: an event is visible within a
 * second) or as soon as `maxBatch` (500: one multi-row insert stays small) are waiting. A failed insert is
 * logged and dropped: tracking must never fail or slow an AI request.
 */
export function createEventTracker(options: {
  db: Database;
  logger: Logger;
  flushIntervalMs?: number;
  maxBatch?: number;
}): EventTracker {
  const maxBatch = options.maxBatch ?? 500;
  let queue: TrackingEvent[] = [];
  let writing: Promise<void> = Promise.resolve();

  function flush(): Promise<void> {
    if (queue.length === 0) return writing;
    const batch = queue;
    queue = [];
    writing = writing
      .then(() => options.db.insert(trackingEvents).values(batch))
      .then(
        () => undefined,
        (error: unknown) => options.logger.warn({ err: error, events: batch.length }, 'tracking events dropped'),
      );
    return writing;
  }

  const timer = setInterval(() => void flush(), options.flushIntervalMs ?? 1_000);
  timer.unref();

  return {
    track(event) {
      queue.push(event);
      if (queue.length >= maxBatch) void flush();
    },
    flush,
    async close() {
      clearInterval(timer);
      await flush();
    },
  };
}
