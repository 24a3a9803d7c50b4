import type { UnitPrimitiveBundles } from './actions/cloud-connector.ts';
import type { AccessDirectory } from './auth/access-directory.ts';
import type { TokenAuthenticator } from './auth/token-authenticator.ts';
import type { Authentication } from './auth/tokens.ts';
import type { ChatHistory } from './chat/chat-history.ts';
import type { Config } from './config.ts';
import type { DatabaseHandle } from './db/client.ts';
import type { CachedFeatureFlags } from './feature-flags/create-feature-flags.ts';
import type { ProviderRegistry } from './llm/registry.ts';
import type { Logger } from './logger.ts';
import type { Metrics } from './metrics/create-metrics.ts';
import type { InputModerator } from './moderation/input-moderator.ts';
import type { AiPubSub } from './pubsub.ts';
import type { AiActionRateLimiter } from './rate-limit/ai-action-rate-limiter.ts';
import type { Redis } from './redis.ts';
import type { RequestLog } from './requests/request-log.ts';
import type { RestConfig } from './rest/rest-config.ts';
import type { EventTracker } from './tracking/event-tracker.ts';
import type { AiActionQueue } from './workers/queues.ts';

/** Long-lived dependencies of the API process, built once in the entry point. */
export interface ApiServices {
  config: Config;
  logger: Logger;
  database: DatabaseHandle;
  redis: Redis;
  pubsub: AiPubSub;
  queue: AiActionQueue;
  chatHistory: ChatHistory;
  /** Per-request owner, final-message claim, cancel mark and replayable messages. */
  requestLog: RequestLog;
  authenticator: TokenAuthenticator;
  /** Cached authorization reads (memberships, groups, seats, resources). */
  directory: AccessDirectory;
  featureFlags: CachedFeatureFlags;
  /** Unit primitive → add-ons, from config/cloud_connector.yml. */
  bundles: UnitPrimitiveBundles;
  rateLimiter: AiActionRateLimiter;
  /** The API answers code suggestions and the experimental endpoints itself, synchronously. */
  providers: ProviderRegistry;
  metrics: Metrics;
  restConfig: RestConfig;
  tracker: EventTracker;
  /** Input moderation per feature (MODERATION_* variables): blocks or redacts before anything is enqueued. */
  moderator: InputModerator;
}

/** Per-request GraphQL context. */
export interface GraphQLContext {
  services: ApiServices;
  /** Absent for anonymous requests. */
  authentication?: Authentication;
  /** Request headers GitLab copies into AI options (User-Agent, Referer). */
  userAgent: string | null;
}
