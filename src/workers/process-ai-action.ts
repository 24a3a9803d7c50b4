import { type Job, UnrecoverableError } from 'bullmq';
import { findAiActionByActionName } from '../actions/catalogue.ts';
import type { AccessDirectory } from '../auth/access-directory.ts';
import { canReadResource } from '../auth/authorize.ts';
import type { Resource } from '../auth/resources.ts';
import type { UserLookup } from '../auth/user-lookup.ts';
import type { ChatHistory } from '../chat/chat-history.ts';
import { conversationForModel } from '../chat/conversation-for-model.ts';
import { lastConversationFor } from '../chat/last-conversation.ts';
import type { Database } from '../db/client.ts';
import type { FeatureFlags } from '../feature-flags/feature-flags.ts';
import { parseGlobalId, toGlobalId } from '../gid.ts';
import { LlmError } from '../llm/errors.ts';
import { recordUsage } from '../llm/record-usage.ts';
import type { ProviderRegistry } from '../llm/registry.ts';
import type { LlmMessage, LlmRequest } from '../llm/types.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics/create-metrics.ts';
import type { PromptLibrary } from '../prompts/prompt-library.ts';
import type { AiPubSub } from '../pubsub.ts';
import type { DocumentationRetriever } from '../rag/documentation-retriever.ts';
import type { RequestLog } from '../requests/request-log.ts';
import type { EventTracker } from '../tracking/event-tracker.ts';
import { answerWithAgent } from './answer-with-agent.ts';
import type { ProducedAnswer } from './produced-answer.ts';
import { type AiActionJobData, aiActionJobDataSchema } from './queues.ts';
import { createResponsePublisher } from './response-publisher.ts';
import { expiredMessage, settleBeforeStart } from './settle-before-start.ts';
import { streamAnswer } from './stream-answer.ts';

export interface WorkerServices {
  db: Database;
  users: UserLookup;
  featureFlags: FeatureFlags;
  prompts: PromptLibrary;
  directory: AccessDirectory;
  pubsub: AiPubSub;
  chatHistory: ChatHistory;
  /** Final-message claims, cancel marks and the replayable chunk log; optional so unit tests can leave it out. */
  requestLog?: RequestLog;
  providers: ProviderRegistry;
  logger: Logger;
  /** Documentation answers for chat questions asked without a resource; absent: chat answers alone. */
  documentation?: DocumentationRetriever;
  /** GitLab's tracking events; optional so tests can leave it out. */
  tracker?: EventTracker;
  /** Job duration, time to first chunk and token spend; optional so tests can leave it out. */
  metrics?: Metrics;
  /** The GitLab instance URL that relative links in answers are made absolute against (`GITLAB_URL`). */
  linkBaseUrl?: string;
  /** Enqueues internal follow-up jobs (question categorization after a chat answer); absent: none are run. */
  followUps?: { enqueue(data: AiActionJobData, jobId: string): Promise<void> };
}

export type AiActionJobStatus = 'completed' | 'answered-with-error' | 'skipped' | 'cancelled' | 'expired';

/** What a user reads when a provider fails for good; details go to the logs, not to the user. */
export const providerFailureMessage =
  'I am sorry, I could not answer this time because the AI provider did not respond. Please try again.';

/** GitLab's answer when the model timed out (`Net::ReadTimeout`, reference §5.2), exact text. */
export const agentTimeoutMessage =
  "GitLab Duo didn't respond. Try again? If it fails again, your request might be too large.";

/**
 * Runs one AI action: validate the job, re-check the user and the resource, build the plan, stream
 * the provider's answer as chunks, publish the final message. A retryable provider failure before
 * any text was sent is rethrown so BullMQ retries; anything else ends in a final error message.
 */
export async function handleAiActionJob(
  services: WorkerServices,
  job: Pick<Job<unknown>, 'data' | 'attemptsMade' | 'opts'>,
  signal?: AbortSignal,
): Promise<AiActionJobStatus> {
  const parsed = aiActionJobDataSchema.safeParse(job.data);
  if (!parsed.success) throw new UnrecoverableError(`Invalid job data: ${parsed.error.issues[0]?.message}`);
  const data: AiActionJobData = parsed.data;
  const action = findAiActionByActionName(data.actionName);
  if (!action) throw new UnrecoverableError(`completion class for action ${data.actionName} not found`);
  const logger = services.logger.child({ requestId: data.requestId, action: data.actionName, userId: data.userId });
  const jobStartedAt = Date.now();
  services.tracker?.track({
    category: 'Llm::CompletionWorker',
    action: 'perform_completion_worker',
    label: data.actionName,
    property: data.requestId,
    userId: data.userId,
    client: data.client,
  });

  const user = await services.users.findActive(data.userId);
  if (!user) {
    logger.info('user is gone or blocked; skipping');
    return 'skipped';
  }
  // GitLab drops a resource the user can no longer read and carries on without it (reference §2.4).
  let resource: Resource | null = null;
  if (data.resourceGid) {
    const loaded = await services.directory.resource(parseGlobalId(data.resourceGid));
    resource = loaded && (await canReadResource(services.directory, user, loaded)) ? loaded : null;
  }
  const publisher = createResponsePublisher({
    pubsub: services.pubsub,
    chatHistory: services.chatHistory,
    routing: {
      userGid: toGlobalId('User', user.id),
      resourceGid: data.resourceGid,
      actionName: data.actionName,
      clientSubscriptionId: data.clientSubscriptionId,
    },
    requestId: data.requestId,
    userId: user.id,
    storesInChatHistory: action.storesInChatHistory,
    threadId: data.threadId,
    db: services.db,
    ...(services.requestLog ? { requestLog: services.requestLog } : {}),
    ...(services.linkBaseUrl ? { linkBaseUrl: services.linkBaseUrl } : {}),
  });
  // Internal follow-ups (categorization) share their request's id but publish nothing: they are not settled.
  const settled = action.consumeAnswer ? undefined : await settleBeforeStart(services.requestLog, publisher, data);
  if (settled) {
    logger.info({ outcome: settled }, 'request settled without a model call');
    return settled;
  }

  const conversation: LlmMessage[] = action.storesInChatHistory
    ? conversationForModel(await lastConversationFor(services, user.id, data.threadId), data.requestId)
    : [];
  const plan = await action.plan({
    db: services.db,
    user,
    resource,
    input: data.input,
    requestId: data.requestId,
    conversation,
  });
  if (plan.kind === 'answer') {
    await publisher.publishFinal(plan.content, { status: 'completed' });
    return 'completed';
  }

  // The root group's feature setting, when the resource has a group and the group chose a provider.
  const container =
    resource && 'project' in resource
      ? resource.project.groupId
      : resource && 'group' in resource
        ? resource.group.id
        : undefined;
  const rootGroup = container === undefined ? undefined : (await services.directory.groupChain(container)).at(-1);
  const setting = rootGroup ? await services.directory.featureSetting(rootGroup.id, data.actionName) : undefined;
  // Model selection as data: the prompt definition's default, then the group's setting (AI_PROVIDER,
  // in the registry, overrides both).
  const provider = services.providers.forFeature(
    data.actionName,
    setting ? { provider: setting.provider, model: setting.model } : services.prompts.defaultModel(data.actionName),
  );
  const request =
    plan.kind === 'request'
      ? { ...plan.request, enabledFeatureFlags: data.enabledFeatureFlags }
      : plan.kind === 'prompt'
        ? {
            ...services.prompts.render(plan.feature ?? action.actionName, plan.variables, {
              model: services.providers.modelFor?.(plan.feature ?? action.actionName),
              migrated: data.enabledFeatureFlags.includes(`prompt_migration_${plan.feature ?? action.actionName}`),
            }),
            enabledFeatureFlags: data.enabledFeatureFlags,
          }
        : undefined;
  // The job's own signal (aiCancel → BullMQ cancelJob) and the request's deadline both stop the model call.
  const deadline =
    data.deadlineAt === undefined ? undefined : AbortSignal.timeout(Math.max(1, data.deadlineAt - Date.now()));
  const runSignals = [signal, deadline].filter((candidate): candidate is AbortSignal => candidate !== undefined);
  const runSignal = runSignals.length > 0 ? AbortSignal.any(runSignals) : undefined;
  if (action.consumeAnswer) {
    // An internal action's answer is for the service: nothing is streamed or published.
    if (!request) return 'skipped';
    const produced = await streamAnswer(provider, request, async () => undefined, runSignal);
    await action.consumeAnswer(produced.content, {
      requestId: data.requestId,
      userId: user.id,
      client: data.client,
      tracker: services.tracker,
      logger,
    });
    if (produced.usage && produced.model) {
      await recordUsage(services.db, {
        userId: user.id,
        feature: data.actionName,
        model: produced.model,
        usage: produced.usage,
      }).catch((error: unknown) => logger.error({ err: error }, 'could not record token usage'));
    }
    return 'completed';
  }
  const startedAt = performance.now();
  // GitLab's llm_completion SLI measures from when the request was accepted, not from when the job started.
  const secondsSinceAccepted = () => (Date.now() - data.enqueuedAt) / 1_000;
  let streamedText = '';
  const publishChunk = async (text: string) => {
    if (streamedText === '') services.metrics?.observeFirstChunk(data.actionName, secondsSinceAccepted());
    streamedText += text;
    await publisher.publishChunk(text);
  };
  let answer: ProducedAnswer;
  try {
    answer =
      plan.kind === 'agent'
        ? await answerWithAgent(services, {
            provider,
            plan,
            user,
            resource,
            conversation,
            data,
            publishChunk,
            publishToolNotice: (humanName) => publisher.publishToolNotice(humanName),
            signal: runSignal,
          })
        : await streamAnswer(provider, request as LlmRequest, publishChunk, runSignal);
  } catch (error) {
    if (runSignal?.aborted) {
      // Stopped on purpose: the owner cancelled, or the deadline passed. The text so far stays visible.
      const status = deadline?.aborted ? 'expired' : 'cancelled';
      logger.info({ status, streamedCharacters: streamedText.length }, 'request stopped');
      await publisher.publishFinal(streamedText, {
        status,
        ...(status === 'expired' ? { errors: [expiredMessage] } : {}),
      });
      services.metrics?.observeJob(data.actionName, secondsSinceAccepted(), status);
      return status;
    }
    const attemptsLeft = (job.opts.attempts ?? 1) - (job.attemptsMade + 1);
    if (LlmError.isInstance(error) && error.isRetryable && streamedText === '' && attemptsLeft > 0) {
      logger.warn({ code: error.code, attemptsLeft }, 'provider failed before streaming; retrying');
      throw error;
    }
    logger.error(
      { err: LlmError.isInstance(error) ? { code: error.code, provider: error.provider } : error },
      'provider failed',
    );
    const userMessage =
      LlmError.isInstance(error) && error.code === 'timeout' ? agentTimeoutMessage : providerFailureMessage;
    await publisher.publishFinal(streamedText, { status: 'error', errors: [userMessage] });
    services.metrics?.observeJob(data.actionName, secondsSinceAccepted(), 'error');
    return 'answered-with-error';
  }
  const { model, usage } = answer;
  if (usage && model) {
    const [vendor = provider.id, modelName = model] = model.split(':');
    for (const [item, count] of [
      ['prompt', usage.inputTokens],
      ['completion', usage.outputTokens],
    ] as const) {
      services.metrics?.countTokens(
        { vendor, model: modelName, item: `${modelName}/${item}`, unit: 'tokens', featureCategory: data.actionName },
        count,
      );
    }
  }
  logger.info(
    {
      provider: provider.id,
      model,
      inputTokens: usage?.inputTokens,
      outputTokens: usage?.outputTokens,
      outputCharacters: answer.content.length,
      toolsUsed: answer.toolsUsed,
      durationMs: Math.round(performance.now() - startedAt),
      queueWaitMs: jobStartedAt - data.enqueuedAt,
    },
    'completion finished',
  );
  await publisher.publishFinal(answer.content, {
    status: answer.status,
    ...(answer.status === 'error' ? { errors: [answer.content] } : {}),
    extras: { model, sources: answer.sources },
  });
  services.metrics?.observeJob(
    data.actionName,
    secondsSinceAccepted(),
    answer.status === 'error' ? 'error' : 'success',
  );
  for (const tool of answer.toolsUsed) {
    services.tracker?.track({
      category: 'Gitlab::Llm::Completions::Chat',
      action: 'process_gitlab_duo_question',
      label: tool,
      property: data.requestId,
      value: answer.status === 'completed' ? 1 : 0,
      userId: user.id,
      client: data.client,
    });
  }
  if (plan.kind === 'agent' && answer.status === 'completed') {
    await enqueueCategorization(services, data, plan.question).catch((error: unknown) =>
      logger.warn({ err: error }, 'could not enqueue question categorization'),
    );
  }
  // After the answer is out: the user never waits for accounting.
  if (usage && model) {
    await recordUsage(services.db, { userId: user.id, feature: data.actionName, model, usage }).catch(
      (error: unknown) => logger.error({ err: error }, 'could not record token usage'),
    );
  }
  return 'completed';
}

/**
 * GitLab's chat post-processing (reference §5.1): the question is categorized by the internal
 * `categorize_question` action in a job of its own, behind GitLab's `duo_chat_categorize_question` (off by default).
 */
async function enqueueCategorization(services: WorkerServices, data: AiActionJobData, question: string): Promise<void> {
  if (!services.followUps) return;
  const flagOn = await services.featureFlags.isEnabled('duo_chat_categorize_question', { userId: data.userId });
  if (!flagOn) return;
  await services.followUps.enqueue(
    {
      ...data,
      actionName: 'categorize_question',
      resourceGid: null,
      input: { question },
      clientSubscriptionId: null,
      enqueuedAt: Date.now(),
      enabledFeatureFlags: ['categorize_question'],
    },
    `${data.requestId}-categorize_question`,
  );
}
