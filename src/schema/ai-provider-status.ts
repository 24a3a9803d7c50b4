import { builder } from './builder.ts';
import { requireAdmin } from './require-user.ts';

interface CircuitStateShape {
  name: string;
  state: string;
}

const CircuitStateRef = builder.objectRef<CircuitStateShape>('AiProviderCircuit').implement({
  description: "A provider and model's circuit breaker, shared by every process through Redis.",
  fields: (t) => ({
    name: t.exposeString('name', {
      nullable: false,
      description: '`<provider>:<model>`, e.g. `anthropic:claude-sonnet-4-5`.',
    }),
    state: t.exposeString('state', { nullable: false, description: '`closed`, `half-open` or `open`.' }),
  }),
});

builder.queryField('aiProviderCircuits', (t) =>
  t.field({
    type: [CircuitStateRef],
    nullable: false,
    description: 'The circuit breakers of the provider fallback chain, in chain order. Administrators only.',
    resolve: (_root, _arguments, context) => {
      requireAdmin(context);
      return context.services.providers.circuitStates?.() ?? [];
    },
  }),
);
