import { costLimitPlugin } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { useDisableIntrospection } from '@graphql-yoga/plugin-disable-introspection';
import { GraphQLError, NoSchemaIntrospectionCustomRule, type ValidationContext, type ValidationRule } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Config } from './config.ts';

type LimitsConfig = Pick<
  Config,
  'NODE_ENV' | 'GRAPHQL_MAX_DEPTH' | 'GRAPHQL_MAX_COST' | 'GRAPHQL_MAX_ALIASES' | 'GRAPHQL_INTROSPECTION'
>;

/** Introspection is on unless GRAPHQL_INTROSPECTION says otherwise, or NODE_ENV=production leaves it unset. */
export function introspectionEnabled(config: LimitsConfig): boolean {
  return config.GRAPHQL_INTROSPECTION ?? config.NODE_ENV !== 'production';
}

/**
 * graphql-armor throws `Syntax Error: Query depth limit of 12 exceeded, found 13.` out of `validate()`: a thrown
 * error is no validation result (graphql-ws would close the socket), and the operation has no syntax error. The
 * refusal is reported instead, as an ordinary validation error with the same words, so HTTP answers it like any
 * invalid operation (400) and graphql-ws sends it as the subscription's error.
 */
function reportRefusal(context: ValidationContext | null, error: GraphQLError): void {
  context?.reportError(
    new GraphQLError(error.message.replace(/^Syntax Error: /, ''), {
      extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
    }),
  );
}

/** A fresh object per plugin: graphql-armor's options hold a mutable callback array. */
const asValidationError = () => ({ onReject: [reportRefusal], propagateOnRejection: false });

/**
 * The Envelop/Yoga plugins that bound what one GraphQL operation may ask for: depth, cost and aliases (each a
 * validation rule, so they apply to HTTP, SSE and graphql-ws alike), and the introspection switch.
 */
export function createGraphQLLimitPlugins(config: LimitsConfig): Plugin[] {
  const plugins: Plugin[] = [
    maxDepthPlugin({ n: config.GRAPHQL_MAX_DEPTH, ...asValidationError() }),
    costLimitPlugin({ maxCost: config.GRAPHQL_MAX_COST, ...asValidationError() }),
    maxAliasesPlugin({ n: config.GRAPHQL_MAX_ALIASES, ...asValidationError() }),
  ];
  if (!introspectionEnabled(config)) plugins.push(useDisableIntrospection());
  return plugins;
}

/**
 * Rules the graphql-ws path must add itself. Yoga's introspection plugin marks requests while it parses an HTTP
 * request, which a WebSocket message never goes through; the other limits are plain validation rules and apply
 * there already.
 */
export function webSocketValidationRules(config: LimitsConfig): ValidationRule[] | undefined {
  return introspectionEnabled(config) ? undefined : [NoSchemaIntrospectionCustomRule];
}
