import type { IncomingMessage, ServerResponse } from 'node:http';
import type { UnitPrimitiveBundles } from '../actions/cloud-connector.ts';
import type { AccessDirectory } from '../auth/access-directory.ts';
import type { TokenAuthenticator } from '../auth/token-authenticator.ts';
import type { Config } from '../config.ts';
import type { FeatureFlags } from '../feature-flags/feature-flags.ts';
import type { ProviderRegistry } from '../llm/registry.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics/create-metrics.ts';
import type { InputModerator } from '../moderation/input-moderator.ts';
import type { Redis } from '../redis.ts';
import type { RestConfig } from './rest-config.ts';

/** What the REST routes need; the API entry point builds it next to the GraphQL services. */
export interface RestServices {
  config: Config;
  logger: Logger;
  /** Our personal access tokens (Bearer / PRIVATE-TOKEN). */
  authenticator: TokenAuthenticator;
  /** `forFeature('code_suggestions')` serves completions; `list()` finds Anthropic and Vertex for the experiments. */
  providers: ProviderRegistry;
  /** `expanded_ai_logging`, `ai_experimentation_api` and the experiments' provider flags. */
  featureFlags: FeatureFlags;
  /** A fail-fast command connection: the code-suggestions rate limit lives here. */
  redis: Redis;
  metrics: Metrics;
  /** The REST variables; read from `process.env` by `createRestHandler` when absent (until merged into Config). */
  restConfig?: RestConfig;
  /** Input moderation; built from `restConfig` when absent. */
  moderator?: InputModerator;
  /** Seats and add-on bundles: with both, code suggestions need a seat whose add-on bundles `complete_code`. */
  directory?: AccessDirectory;
  bundles?: UnitPrimitiveBundles;
}

/** Per-request state a route shares with the router: the access-log fields it wants logged. */
export interface RouteContext {
  request: IncomingMessage;
  response: ServerResponse;
  /** Merged into the access log line (ids, names and sizes; texts only through `aiPayloadFields`). */
  logFields: Record<string, unknown>;
  /** `performance.now()` when the request arrived. */
  startedAt: number;
}

export type RouteHandler = (context: RouteContext) => Promise<void>;
