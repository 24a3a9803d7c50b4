import type { Redis } from 'ioredis';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import { createAnthropicProvider } from './providers/anthropic/anthropic-provider.ts';
import { createFakeProvider, fakeModelName } from './providers/fake/fake-provider.ts';
import { createModelWorkerProvider } from './providers/model-worker/model-worker-provider.ts';
import { createOpenAICompatibleProvider } from './providers/openai-compatible/openai-compatible-provider.ts';
import { createVertexProvider } from './providers/vertex/vertex-provider.ts';
import { type CircuitBreakerRegistry, createCircuitBreakerRegistry } from './resilience/circuit-breaker-registry.ts';
import { createFallbackProvider, type FallbackEntry } from './resilience/fallback-provider.ts';
import type { LlmProvider } from './types.ts';

export type ProviderId = 'anthropic' | 'vertex' | 'self_hosted' | 'fake';

/** A group's choice for a feature (its "feature setting"). */
export interface ProviderPreference {
  provider: ProviderId;
  model?: string | null;
}

export interface ProviderRegistry {
  /**
   * The provider serving a feature: a fallback chain over the configured providers, headed by the
   * group's preference when it names a configured provider (`AI_PROVIDER` in the environment wins).
   */
  forFeature(feature: string, preference?: ProviderPreference): LlmProvider;
  list(): LlmProvider[];
  /** The model expected to answer a feature (the chain's head), for model-specific prompts. */
  modelFor?(feature: string): string | undefined;
  /** The breaker of every provider in the default chain, with its current state (shared through Redis). */
  circuitStates?(): { name: string; state: string }[];
  /** Circuit breakers of the chain, for metrics and the admin query. */
  breakers?: CircuitBreakerRegistry;
  close?(): Promise<void>;
}

/** One entry per provider: how to build it from the configuration, or undefined when it is not configured. */
const providerFactories: Record<Exclude<ProviderId, 'fake'>, (config: Config) => FallbackEntry | undefined> = {
  anthropic: (config) =>
    config.ANTHROPIC_API_KEY
      ? {
          provider: createAnthropicProvider({
            apiKey: config.ANTHROPIC_API_KEY,
            ...(config.ANTHROPIC_BASE_URL ? { baseURL: config.ANTHROPIC_BASE_URL } : {}),
            defaultModel: config.ANTHROPIC_MODEL,
            timeoutMs: config.LLM_TIMEOUT_MS,
          }),
          model: config.ANTHROPIC_MODEL,
        }
      : undefined,
  vertex: (config) =>
    config.VERTEX_AI_PROJECT
      ? {
          provider: createVertexProvider({
            project: config.VERTEX_AI_PROJECT,
            location: config.VERTEX_AI_LOCATION,
            ...(config.VERTEX_AI_API_ENDPOINT ? { apiEndpoint: config.VERTEX_AI_API_ENDPOINT } : {}),
            ...(config.VERTEX_AI_CREDENTIALS ? { credentials: config.VERTEX_AI_CREDENTIALS } : {}),
            defaultModel: config.VERTEX_AI_MODEL,
            embeddingModel: config.VERTEX_AI_EMBEDDING_MODEL,
          }),
          model: config.VERTEX_AI_MODEL,
        }
      : undefined,
  self_hosted: (config) =>
    config.SELF_HOSTED_VIA_MODEL_WORKER && config.SELF_HOSTED_MODEL_NAME
      ? {
          provider: createModelWorkerProvider({
            redisUrl: config.redisUrl,
            keyPrefix: config.REDIS_KEY_PREFIX,
            model: config.SELF_HOSTED_MODEL_NAME,
            timeoutMs: config.LLM_TIMEOUT_MS,
          }),
          model: config.SELF_HOSTED_MODEL_NAME,
        }
      : config.SELF_HOSTED_MODEL_URL && config.SELF_HOSTED_MODEL_NAME
        ? {
            provider: createOpenAICompatibleProvider({
              name: 'self_hosted',
              baseURL: config.SELF_HOSTED_MODEL_URL,
              defaultModel: config.SELF_HOSTED_MODEL_NAME,
              ...(config.SELF_HOSTED_MODEL_API_KEY ? { apiKey: config.SELF_HOSTED_MODEL_API_KEY } : {}),
            }),
            model: config.SELF_HOSTED_MODEL_NAME,
          }
        : undefined,
};

/**
 * Builds the providers the configuration enables, in fallback order: `AI_PROVIDER` first, then the
 * others that are configured (anthropic → vertex → self_hosted). With `USE_FAKE_MODELS` (or nothing
 * configured) the fake model serves everything.
 */
export function createProviderRegistry(
  config: Config,
  dependencies: { redis?: Redis; logger?: Logger } = {},
): ProviderRegistry {
  if (config.useFakeModels) {
    const fake = createFakeProvider({
      latencyMs: config.FAKE_MODEL_LATENCY_MS,
      chunkSize: config.FAKE_MODEL_CHUNK_SIZE,
      recordCalls: false,
    });
    return { forFeature: () => fake, list: () => [fake], modelFor: () => fakeModelName };
  }
  const order: Exclude<ProviderId, 'fake'>[] = ['anthropic', 'vertex', 'self_hosted'];
  const preferred = config.AI_PROVIDER && config.AI_PROVIDER !== 'fake' ? config.AI_PROVIDER : undefined;
  const ordered = preferred ? [preferred, ...order.filter((id) => id !== preferred)] : order;
  const entries = ordered.flatMap((id) => {
    const entry = providerFactories[id](config);
    return entry ? [entry] : [];
  });
  if (entries.length === 0) {
    throw new Error(`AI_PROVIDER=${config.AI_PROVIDER} is not configured: set its API key, project or URL`);
  }
  const breakers = createCircuitBreakerRegistry({
    ...(dependencies.redis ? { redis: dependencies.redis } : {}),
    keyPrefix: config.REDIS_KEY_PREFIX,
  });
  const chainOptions = {
    breakers,
    timeoutMs: config.LLM_TIMEOUT_MS,
    retry: { initialDelayMs: config.LLM_RETRY_INITIAL_DELAY_MS },
  };
  const chain = createFallbackProvider(entries, chainOptions);
  // One chain per distinct preference, built on first use: the breakers are shared by name, so a
  // provider's health is the same whichever chain reaches it.
  const preferredChains = new Map<string, LlmProvider>();
  function chainFor(preference: ProviderPreference): LlmProvider {
    const head = entries.find((entry) => entry.provider.id === preference.provider);
    if (!head) return chain;
    const key = `${preference.provider}:${preference.model ?? ''}`;
    let preferred = preferredChains.get(key);
    if (!preferred) {
      preferred = createFallbackProvider(
        [
          { ...head, ...(preference.model ? { model: preference.model } : {}) },
          ...entries.filter((entry) => entry !== head),
        ],
        chainOptions,
      );
      preferredChains.set(key, preferred);
    }
    return preferred;
  }
  dependencies.logger?.info(
    { chain: entries.map((entry) => `${entry.provider.id}:${entry.model}`) },
    `Every AI feature is served by ${entries.map((entry) => `${entry.provider.id}:${entry.model}`).join(' → ')}`,
  );
  const closeable = entries.flatMap((entry) => {
    const candidate = entry.provider as LlmProvider & { close?: () => Promise<void> };
    return typeof candidate.close === 'function' ? [candidate] : [];
  });
  return {
    forFeature: (_feature, preference) => (preference && !preferred ? chainFor(preference) : chain),
    list: () => entries.map((entry) => entry.provider),
    modelFor: () => entries[0]?.model,
    circuitStates: () =>
      entries.map((entry) => {
        const name = `${entry.provider.id}:${entry.model ?? 'default'}`;
        return { name, state: breakers.get(name).state() };
      }),
    breakers,
    async close() {
      await breakers.close();
      await Promise.all(closeable.map((provider) => provider.close?.()));
    },
  };
}
