import { randomUUID } from 'node:crypto';
import { chatAction } from '../actions/chat.ts';
import type { UnitPrimitiveBundles } from '../actions/cloud-connector.ts';
import type { AiMessage } from '../ai-message.ts';
import { authorizeAiAction } from '../auth/ai-authorization.ts';
import type { Resource } from '../auth/resources.ts';
import type { ChatHistory } from '../chat/chat-history.ts';
import { parseGlobalId, toGlobalId } from '../gid.ts';
import type { ProviderRegistry } from '../llm/registry.ts';
import type { LlmProvider, LlmUsage } from '../llm/types.ts';
import type { AiPubSub } from '../pubsub.ts';
import type { EventTracker } from '../tracking/event-tracker.ts';
import { handleAiActionJob, type WorkerServices } from '../workers/process-ai-action.ts';
import { type AiActionJobData, aiActionJobDataSchema } from '../workers/queues.ts';
import type { EvalCase } from './dataset.ts';
import type { ChatAnswer } from './eval-result.ts';

/** The worker's services that are shared by every case; per-case recorders are added by the runner. */
export type SharedChatServices = Omit<
  WorkerServices,
  'pubsub' | 'chatHistory' | 'tracker' | 'requestLog' | 'followUps' | 'metrics'
>;

export interface ChatCaseRunnerOptions {
  services: SharedChatServices;
  bundles: UnitPrimitiveBundles;
  /** The user who asks (the evaluation world's `duo-evaluator`). */
  userId: number;
  /** Per case, like the API's request deadline. */
  timeoutMs: number;
}

/** A tally of every model call's usage, for one case. */
function countingProvider(provider: LlmProvider, add: (usage: LlmUsage) => void): LlmProvider {
  return {
    id: provider.id,
    async complete(request, options) {
      const result = await provider.complete(request, options);
      add(result.usage);
      return result;
    },
    async *stream(request, options) {
      for await (const part of provider.stream(request, options)) {
        if (part.type === 'finish') add(part.usage);
        yield part;
      }
    },
    ...(provider.embed ? { embed: provider.embed.bind(provider) } : {}),
  };
}

/** Keeps what the worker publishes instead of sending it to Redis: the final message is the answer. */
function recordingPubSub(published: AiMessage[]): AiPubSub {
  return {
    async publish(_argumentSets, message) {
      published.push(message);
    },
    async publishOnce(_argumentSets, message) {
      published.push(message);
      return true;
    },
    subscribe() {
      throw new Error('the evaluation does not subscribe');
    },
    async ready() {},
    async close() {},
  };
}

/** An empty conversation per case (GitLab's QA runs each question alone, `cache_response: false`). */
function freshChatHistory(): ChatHistory {
  const messages: AiMessage[] = [];
  return {
    async add(_userId, message) {
      messages.push(message);
    },
    async messages() {
      return [...messages];
    },
    async lastConversation() {
      return [];
    },
    async clear() {
      messages.length = 0;
    },
    async markFeedback() {
      return false;
    },
  };
}

/**
 * Runs one case through the real chat path: the API's checks (input schema, resource, the authorization
 * chain, the request's feature flags), then `handleAiActionJob` synchronously, as the worker would, with the
 * configured provider. Publishing, chat history and tracking go to per-case recorders: the final message is
 * the answer, the worker's tracking events name the tools used, and a wrapper tallies tokens.
 */
export function createChatCaseRunner(options: ChatCaseRunnerOptions): (evalCase: EvalCase) => Promise<ChatAnswer> {
  const { services } = options;
  return async (evalCase) => {
    const startedAt = performance.now();
    const elapsed = () => Math.round(performance.now() - startedAt);
    const refused = (message: string, status = 'refused'): ChatAnswer => ({
      answer: '',
      status,
      errors: [message],
      toolsUsed: [],
      sources: [],
      model: null,
      usage: null,
      latencyMs: elapsed(),
    });
    const user = await services.users.findActive(options.userId);
    if (!user) return refused(`user ${options.userId} does not exist or is blocked; seed with --filter=gitlab_duo`);
    const parsedInput = chatAction.input.safeParse({
      content: evalCase.question,
      ...(evalCase.resourceId ? { resourceId: evalCase.resourceId } : {}),
      ...(evalCase.currentFile ? { currentFile: evalCase.currentFile } : {}),
    });
    if (!parsedInput.success) return refused(`invalid input: ${parsedInput.error.issues[0]?.message}`);
    let resource: Resource | null = null;
    if (evalCase.resourceId) {
      resource = (await services.directory.resource(parseGlobalId(evalCase.resourceId))) ?? null;
      if (!resource) return refused(`${evalCase.resourceId} does not exist; seed with --filter=gitlab_duo`);
    }
    const refusal = await authorizeAiAction(
      { user, action: chatAction, resource },
      { flags: services.featureFlags, directory: services.directory, bundles: options.bundles },
    );
    if (refusal) return refused(refusal);
    const enabledFeatureFlags: string[] = [];
    for (const name of ['prompt_migration_chat', 'expanded_ai_logging']) {
      if (await services.featureFlags.isEnabled(name, { userId: user.id })) enabledFeatureFlags.push(name);
    }
    const now = Date.now();
    const data: AiActionJobData = aiActionJobDataSchema.parse({
      requestId: randomUUID(),
      userId: user.id,
      actionName: chatAction.actionName,
      resourceGid: resource ? toGlobalId(resource.type, resource.record.id) : null,
      input: parsedInput.data,
      clientSubscriptionId: null,
      platformOrigin: null,
      enqueuedAt: now,
      deadlineAt: now + options.timeoutMs,
      enabledFeatureFlags,
      client: 'web',
    });

    const published: AiMessage[] = [];
    const toolsUsed: string[] = [];
    let usage: LlmUsage | null = null;
    const addUsage = (more: LlmUsage) => {
      usage = usage
        ? {
            inputTokens: usage.inputTokens + more.inputTokens,
            outputTokens: usage.outputTokens + more.outputTokens,
            estimated: usage.estimated || more.estimated,
          }
        : { ...more };
    };
    const tracker: EventTracker = {
      track(event) {
        if (event.action === 'process_gitlab_duo_question' && event.label) toolsUsed.push(event.label);
      },
      async flush() {},
      async close() {},
    };
    const providers: ProviderRegistry = {
      ...services.providers,
      forFeature: (feature, preference) =>
        countingProvider(services.providers.forFeature(feature, preference), addUsage),
    };
    let status: string;
    try {
      status = await handleAiActionJob(
        { ...services, providers, pubsub: recordingPubSub(published), chatHistory: freshChatHistory(), tracker },
        { data, attemptsMade: 0, opts: { attempts: 1 } },
      );
    } catch (error) {
      return { ...refused(error instanceof Error ? error.message : String(error), 'failed'), toolsUsed, usage };
    }
    const final = published.findLast((message) => message.role === 'assistant' && message.chunkId === null);
    if (!final) return { ...refused(`the worker ended with ${status} and published no answer`, 'failed'), usage };
    return {
      answer: final.content,
      status: final.extras.status ?? status,
      errors: final.errors,
      toolsUsed,
      sources: final.extras.sources,
      model: final.extras.model,
      usage,
      latencyMs: elapsed(),
    };
  };
}
