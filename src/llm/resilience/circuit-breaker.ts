import { randomUUID } from 'node:crypto';
import { LlmError } from '../errors.ts';

/*
 * A small breaker instead of opossum: opossum wraps one promise-returning function per call (`fire`), which
 * fits neither a stream whose outcome is known only after its last chunk nor a state shared through Redis
 * (opossum keeps state in the process; syncing it means forcing `open()`/`close()` from outside and fighting
 * its own timers). The whole state machine below is ~150 lines and testable with an injected clock.
 */

export type CircuitState = 'closed' | 'open' | 'half-open';

/** What is shared between processes: only `open` with its time, or `closed`. Half-open is derived from the time. */
export interface CircuitSnapshot {
  state: 'open' | 'closed';
  /** Epoch milliseconds the circuit opened; 0 when closed. */
  openedAt: number;
  /** The breaker instance that wrote it, so an instance ignores its own echoes. */
  origin: string;
}

/** Shared storage for breaker state; {@link createRedisCircuitStore} is the Redis implementation. */
export interface CircuitStore {
  load(name: string): Promise<CircuitSnapshot | undefined>;
  /** Persists and broadcasts the snapshot to every subscribed instance. */
  save(name: string, snapshot: CircuitSnapshot): Promise<void>;
  /** Takes the cluster-wide half-open probe lease; false when another instance holds it. */
  acquireProbe(name: string, leaseMs: number): Promise<boolean>;
  releaseProbe(name: string): Promise<void>;
  /** Calls `listener` with every snapshot other instances save; returns the unsubscribe function. */
  subscribe(name: string, listener: (snapshot: CircuitSnapshot) => void): () => void;
}

export interface CircuitBreakerOptions {
  /** Failure percentage over the rolling window at which the circuit opens. GitLab (Circuitbox): 50. */
  errorThresholdPercentage?: number;
  /** Calls needed in the window before the rate counts. GitLab: 10. */
  volumeThreshold?: number;
  /** Length of the rolling window. Circuitbox's default `time_window`: 60 s. */
  rollingWindowMs?: number;
  /** Time the circuit stays open before one probe may pass. Circuitbox's default `sleep_window`: 90 s. */
  sleepWindowMs?: number;
  /** How long one instance may hold the probe before another may try; covers a worker dying mid-probe. */
  probeLeaseMs?: number;
  /**
   * Which errors count against the provider. Default: `unavailable`, `overloaded` and `timeout`, the
   * provider-health failures (GitLab counted only 5xx). Rate limits, bad requests and auth errors say nothing
   * about the provider's health; `cancelled` is the caller's doing and is neutral.
   */
  isFailure?: (error: unknown) => boolean;
  /** Clock, injectable for tests. */
  now?: () => number;
  /** Shared state; the breaker is process-local without one. */
  store?: CircuitStore;
  /** Store calls slower than this fall back to the local view, so a Redis outage never blocks a request. */
  storeTimeoutMs?: number;
  /** Reports store failures (the breaker carries on locally). */
  onStoreError?: (error: unknown) => void;
}

/** Permission for one call; report its outcome exactly once (later reports are ignored). */
export interface CircuitPermit {
  success(): void;
  /** Counts as a failure when `isFailure(error)`, as neutral when cancelled, as a success otherwise. */
  failure(error: unknown): void;
  /** Neither success nor failure (e.g. the caller abandoned the call). */
  release(): void;
}

export interface CircuitBreaker {
  /** `<providerId>:<model>` by convention. */
  readonly name: string;
  /** The current state as this instance sees it; for metrics and for skipping providers. */
  state(): CircuitState;
  /** Milliseconds until an open circuit lets a probe through; 0 when not open. */
  retryInMs(): number;
  /** A permit when a call may go ahead; undefined when the circuit is open (or another probe is in flight). */
  tryAcquire(): Promise<CircuitPermit | undefined>;
  /** Waits for the initial state load from the store. */
  ready(): Promise<void>;
  /** Stops listening to the store. */
  dispose(): void;
}

const defaultIsFailure = (error: unknown): boolean =>
  LlmError.isInstance(error) &&
  (error.code === 'unavailable' || error.code === 'overloaded' || error.code === 'timeout');

const bucketCount = 10;

export function createCircuitBreaker(name: string, options: CircuitBreakerOptions = {}): CircuitBreaker {
  const errorThresholdPercentage = options.errorThresholdPercentage ?? 50;
  const volumeThreshold = options.volumeThreshold ?? 10;
  const rollingWindowMs = options.rollingWindowMs ?? 60_000;
  const sleepWindowMs = options.sleepWindowMs ?? 90_000;
  const probeLeaseMs = options.probeLeaseMs ?? 60_000;
  const isFailure = options.isFailure ?? defaultIsFailure;
  const now = options.now ?? Date.now;
  const { store } = options;
  const storeTimeoutMs = options.storeTimeoutMs ?? 250;
  const origin = randomUUID();

  let stored: CircuitSnapshot = { state: 'closed', openedAt: 0, origin };
  let probeInFlight = false;
  /** Bumped on every transition, so an outcome reported by a permit from an older state is only counted. */
  let generation = 0;
  const bucketMs = rollingWindowMs / bucketCount;
  let buckets: { start: number; successes: number; failures: number }[] = [];

  function currentBucket() {
    const start = Math.floor(now() / bucketMs) * bucketMs;
    buckets = buckets.filter((bucket) => bucket.start > start - rollingWindowMs);
    let bucket = buckets.at(-1);
    if (bucket?.start !== start) {
      bucket = { start, successes: 0, failures: 0 };
      buckets.push(bucket);
    }
    return bucket;
  }

  function state(): CircuitState {
    if (stored.state === 'closed') return 'closed';
    return now() - stored.openedAt >= sleepWindowMs ? 'half-open' : 'open';
  }

  function guardStore<Result>(operation: () => Promise<Result>, fallback: Result): Promise<Result> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<Result>((resolve) => {
      timer = setTimeout(() => resolve(fallback), storeTimeoutMs);
    });
    const attempt = operation().catch((error: unknown) => {
      options.onStoreError?.(error);
      return fallback;
    });
    return Promise.race([attempt, timeout]).finally(() => clearTimeout(timer));
  }

  function apply(snapshot: CircuitSnapshot): void {
    if (snapshot.state === stored.state && snapshot.openedAt === stored.openedAt) return;
    stored = snapshot;
    generation++;
    probeInFlight = false;
    if (snapshot.state === 'closed') buckets = [];
  }

  function transition(next: 'open' | 'closed'): void {
    const snapshot: CircuitSnapshot = { state: next, openedAt: next === 'open' ? now() : 0, origin };
    apply(snapshot);
    if (store) {
      void guardStore(() => store.save(name, snapshot), undefined);
      if (next === 'closed') void guardStore(() => store.releaseProbe(name), undefined);
    }
  }

  function tripIfOverThreshold(): void {
    let successes = 0;
    let failures = 0;
    currentBucket();
    for (const bucket of buckets) {
      successes += bucket.successes;
      failures += bucket.failures;
    }
    const total = successes + failures;
    if (total >= volumeThreshold && (failures / total) * 100 >= errorThresholdPercentage) transition('open');
  }

  const unsubscribe = store?.subscribe(name, (snapshot) => {
    if (snapshot.origin !== origin) apply(snapshot);
  });
  const loaded = store
    ? guardStore(() => store.load(name), undefined).then((snapshot) => {
        if (snapshot && snapshot.origin !== origin) apply(snapshot);
      })
    : Promise.resolve();

  function permit(isProbe: boolean): CircuitPermit {
    const issuedIn = generation;
    let settled = false;
    const settle = (outcome: 'success' | 'failure' | 'neutral') => {
      if (settled) return;
      settled = true;
      const current = issuedIn === generation;
      if (isProbe && current) {
        probeInFlight = false;
        if (outcome === 'success') transition('closed');
        else if (outcome === 'failure') transition('open');
        else if (store) void guardStore(() => store.releaseProbe(name), undefined);
        return;
      }
      if (outcome === 'neutral' || stored.state !== 'closed') return;
      const bucket = currentBucket();
      if (outcome === 'success') bucket.successes++;
      else bucket.failures++;
      // Checked after every outcome: the call that reaches the volume threshold may well be a success.
      tripIfOverThreshold();
    };
    return {
      success: () => settle('success'),
      failure: (error) =>
        settle(
          isFailure(error)
            ? 'failure'
            : LlmError.isInstance(error) && error.code === 'cancelled'
              ? 'neutral'
              : 'success',
        ),
      release: () => settle('neutral'),
    };
  }

  return {
    name,
    state,
    retryInMs: () => (stored.state === 'open' ? Math.max(0, stored.openedAt + sleepWindowMs - now()) : 0),
    async tryAcquire() {
      const current = state();
      if (current === 'closed') return permit(false);
      if (current === 'open' || probeInFlight) return undefined;
      probeInFlight = true;
      const issuedIn = generation;
      // Without a store (or when it does not answer) the probe is decided locally.
      const acquired = store ? await guardStore(() => store.acquireProbe(name, probeLeaseMs), true) : true;
      if (!acquired || issuedIn !== generation) {
        if (issuedIn === generation) probeInFlight = false;
        return undefined;
      }
      return permit(true);
    },
    ready: () => loaded,
    dispose: () => unsubscribe?.(),
  };
}
