import { Gauge, type Registry } from 'prom-client';
import type { CircuitState } from './circuit-breaker.ts';
import type { CircuitBreakerRegistry } from './circuit-breaker-registry.ts';

const stateValue: Record<CircuitState, number> = { closed: 0, 'half-open': 1, open: 2 };

/**
 * Registers `llm_circuit_breaker_state{breaker="<providerId>:<model>"}`: 0 closed, 1 half-open, 2 open, read
 * from the registry at scrape time (so a state changed by another process shows up on the next scrape).
 */
export function registerCircuitBreakerMetrics(breakers: CircuitBreakerRegistry, registry: Registry): Gauge<'breaker'> {
  return new Gauge({
    name: 'llm_circuit_breaker_state',
    help: 'Circuit breaker state per provider and model: 0 closed, 1 half-open, 2 open.',
    labelNames: ['breaker'],
    registers: [registry],
    collect() {
      this.reset();
      for (const { name, state } of breakers.snapshot()) this.set({ breaker: name }, stateValue[state]);
    },
  });
}
