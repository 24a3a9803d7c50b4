import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LlmError } from '../../src/llm/errors.ts';
import { createCircuitBreaker } from '../../src/llm/resilience/circuit-breaker.ts';
import { registerCircuitBreakerMetrics } from '../../src/llm/resilience/circuit-breaker-metrics.ts';
import { createCircuitBreakerRegistry } from '../../src/llm/resilience/circuit-breaker-registry.ts';
import { waitFor } from './collect-stream.ts';

const overloaded = new LlmError({ code: 'overloaded', provider: 'anthropic', message: 'Overloaded', statusCode: 529 });
const badRequest = new LlmError({ code: 'bad_request', provider: 'anthropic', message: 'Bad', statusCode: 400 });

function clock(start = 1_000_000) {
  let time = start;
  return { now: () => time, advance: (ms: number) => (time += ms) };
}

async function record(breaker: ReturnType<typeof createCircuitBreaker>, outcomes: ('ok' | 'fail' | 'bad')[]) {
  for (const outcome of outcomes) {
    const permit = await breaker.tryAcquire();
    if (!permit) throw new Error('unexpectedly rejected');
    if (outcome === 'ok') permit.success();
    else permit.failure(outcome === 'fail' ? overloaded : badRequest);
  }
}

describe('createCircuitBreaker (GitLab thresholds: 50% over at least 10 calls)', () => {
  it('stays closed below the volume threshold, opens at 50% failures over 10 calls', async () => {
    const time = clock();
    const breaker = createCircuitBreaker('anthropic:claude', {
      now: time.now,
      rollingWindowMs: 60_000,
      sleepWindowMs: 30_000,
    });
    await record(breaker, ['fail', 'fail', 'fail', 'fail', 'fail', 'fail', 'fail', 'fail', 'fail']);
    expect(breaker.state()).toBe('closed'); // 9 calls: under the volume threshold
    await record(breaker, ['ok']);
    expect(breaker.state()).toBe('open'); // 9 of 10 failed
    expect(await breaker.tryAcquire()).toBeUndefined();
    expect(breaker.retryInMs()).toBe(30_000);
  });

  it('does not open under 50%, and ignores bad requests and cancellations as provider failures', async () => {
    const time = clock();
    const breaker = createCircuitBreaker('vertex:gemini', { now: time.now });
    await record(breaker, ['fail', 'fail', 'fail', 'fail', 'ok', 'ok', 'ok', 'ok', 'ok', 'bad', 'bad']);
    expect(breaker.state()).toBe('closed');
    const permit = await breaker.tryAcquire();
    permit?.failure(new LlmError({ code: 'cancelled', provider: 'vertex', message: 'x' }));
    expect(breaker.state()).toBe('closed');
  });

  it('forgets failures older than the rolling window', async () => {
    const time = clock();
    const breaker = createCircuitBreaker('self_hosted:m', { now: time.now, rollingWindowMs: 10_000 });
    await record(breaker, ['fail', 'fail', 'fail', 'fail', 'fail', 'fail']);
    time.advance(11_000);
    await record(breaker, ['fail', 'ok', 'ok', 'ok']);
    expect(breaker.state()).toBe('closed'); // only 4 calls in the window
  });

  it('half-opens after the sleep window, lets one probe through, closes on its success', async () => {
    const time = clock();
    const breaker = createCircuitBreaker('anthropic:claude', { now: time.now, sleepWindowMs: 5_000 });
    await record(breaker, Array<'fail'>(10).fill('fail'));
    expect(breaker.state()).toBe('open');
    time.advance(5_000);
    expect(breaker.state()).toBe('half-open');
    const probe = await breaker.tryAcquire();
    expect(probe).toBeDefined();
    expect(await breaker.tryAcquire()).toBeUndefined(); // one probe at a time
    probe?.success();
    expect(breaker.state()).toBe('closed');
    await record(breaker, Array<'fail'>(9).fill('fail'));
    expect(breaker.state()).toBe('closed'); // the window was reset on close
  });

  it('re-opens for another sleep window when the probe fails', async () => {
    const time = clock();
    const breaker = createCircuitBreaker('anthropic:claude', { now: time.now, sleepWindowMs: 5_000 });
    await record(breaker, Array<'fail'>(10).fill('fail'));
    time.advance(5_000);
    (await breaker.tryAcquire())?.failure(overloaded);
    expect(breaker.state()).toBe('open');
    expect(breaker.retryInMs()).toBe(5_000);
  });
});

describe('circuit breaker state shared through Redis', () => {
  const keyPrefix = `test-${randomUUID()}:`;
  const clients: Redis[] = [];

  function connect(): Redis {
    const client = new Redis('redis://127.0.0.1:6379', { lazyConnect: false, maxRetriesPerRequest: 1 });
    clients.push(client);
    return client;
  }

  beforeAll(() => {
    connect();
  });

  afterAll(async () => {
    const cleaner = clients[0]!;
    const keys = await cleaner.keys(`${keyPrefix}*`);
    if (keys.length) await cleaner.del(...keys);
    await Promise.all(clients.map((client) => client.quit()));
  });

  it('a second instance sees the circuit open within a second, then the probe of one closes both', async () => {
    const options = { sleepWindowMs: 300, keyPrefix };
    const workerA = createCircuitBreakerRegistry({ ...options, redis: connect() });
    const workerB = createCircuitBreakerRegistry({ ...options, redis: connect() });
    try {
      const breakerA = workerA.get('anthropic:claude-standin');
      const breakerB = workerB.get('anthropic:claude-standin');
      await Promise.all([breakerA.ready(), breakerB.ready()]);
      await record(breakerA, Array<'fail'>(10).fill('fail'));
      expect(breakerA.state()).toBe('open');
      const opened = Date.now();
      await waitFor(() => breakerB.state() === 'open', 1_000);
      expect(Date.now() - opened).toBeLessThan(1_000);
      expect(await breakerB.tryAcquire()).toBeUndefined();

      const hash = await clients[0]!.hgetall(`${keyPrefix}llm:circuit:anthropic:claude-standin`);
      expect(hash).toMatchObject({ state: 'open' });

      await waitFor(() => breakerA.state() === 'half-open' && breakerB.state() === 'half-open', 2_000);
      // One probe in the whole cluster: B takes the lease, A is refused.
      const probe = await breakerB.tryAcquire();
      expect(probe).toBeDefined();
      expect(await breakerA.tryAcquire()).toBeUndefined();
      probe?.success();
      expect(breakerB.state()).toBe('closed');
      await waitFor(() => breakerA.state() === 'closed', 1_000);
      expect(await breakerA.tryAcquire()).toBeDefined();
    } finally {
      await Promise.all([workerA.close(), workerB.close()]);
    }
  });

  it('a breaker created later loads the open state from Redis', async () => {
    const first = createCircuitBreakerRegistry({ keyPrefix, sleepWindowMs: 60_000, redis: connect() });
    const breaker = first.get('vertex:gemini-standin');
    await breaker.ready();
    await record(breaker, Array<'fail'>(10).fill('fail'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const late = createCircuitBreakerRegistry({ keyPrefix, sleepWindowMs: 60_000, redis: connect() });
    const lateBreaker = late.get('vertex:gemini-standin');
    await lateBreaker.ready();
    expect(lateBreaker.state()).toBe('open');
    await Promise.all([first.close(), late.close()]);
  });

  it('exposes every breaker state as a Prometheus gauge', async () => {
    const breakers = createCircuitBreakerRegistry({ volumeThreshold: 1 });
    await record(breakers.get('anthropic:a'), ['fail']);
    breakers.get('vertex:b');
    const registry = new Registry();
    registerCircuitBreakerMetrics(breakers, registry);
    const text = await registry.metrics();
    expect(text).toContain('llm_circuit_breaker_state{breaker="anthropic:a"} 2');
    expect(text).toContain('llm_circuit_breaker_state{breaker="vertex:b"} 0');
    await breakers.close();
  });
});
