import { randomUUID } from 'node:crypto';
import type { AiMessage } from '../ai-message.ts';
import { authorizeAiAction } from '../auth/ai-authorization.ts';
import type { Resource } from '../auth/resources.ts';
import { type Authentication, canUseAiFeatures } from '../auth/tokens.ts';
import { clearCommands, resetCommand } from '../chat/chat-history.ts';
import {
  addChatThreadMessage,
  type ChatThread,
  createChatThread,
  findChatThread,
  threadNotFoundMessage,
} from '../chat/chat-threads.ts';
import type { ApiServices } from '../context.ts';
import type { ConversationType } from '../db/schema/ai-conversation-threads.ts';
import { AppError, resourceNotAvailableMessage } from '../errors.ts';
import { parseGlobalId, toGlobalId } from '../gid.ts';
import { InputModerationError } from '../moderation/input-moderation-error.ts';
import { argumentSetsFor } from '../pubsub.ts';
import { rateLimitedMessage } from '../rate-limit/ai-action-rate-limiter.ts';
import { clientFromUserAgent } from '../tracking/client-from-user-agent.ts';
import { type AiActionJobData, aiActionJobDataSchema } from '../workers/queues.ts';
import { findAiAction } from './catalogue.ts';

export interface AiActionSubmission {
  /** The one action key of the mutation (`chat`, `explainCode`, ...). */
  actionKey: string;
  arguments: Record<string, unknown>;
  clientSubscriptionId: string | null;
  platformOrigin: string | null;
  /** Chat only: the user's Postgres thread to continue (database id). */
  threadId?: number | null;
  /** Chat only: without `threadId`, start a new thread of this type. Neither: the Redis stream. */
  conversationType?: ConversationType | null;
  /** The request's User-Agent, for the tracking `client`. */
  userAgent?: string | null;
}

/** GitLab's message when zero or several action keys are sent. */
export const oneActionKeyMessage = 'Only one method argument is required';

/** Threads hold chat conversations; other actions have no history to keep. */
export const threadForChatOnlyMessage =
  'threadId and conversationType are only accepted by actions with a chat history';

function describeZodIssues(issues: readonly { path: PropertyKey[]; message: string }[], actionKey: string): string {
  return issues
    .map((issue) => {
      const path = [actionKey, ...issue.path.map(String)].join('.');
      return /^[A-Z]/.test(issue.message) ? issue.message : `${path} ${issue.message}`;
    })
    .join('; ');
}

/**
 * Validates, authorizes and enqueues one AI action; returns its request id, and the thread a chat message
 * went to when it went to one. Every refusal throws an AppError before anything is written or enqueued.
 */
export async function submitAiAction(
  services: ApiServices,
  authentication: Authentication | undefined,
  submission: AiActionSubmission,
): Promise<{ requestId: string; threadId: number | null }> {
  if (!authentication || !canUseAiFeatures(authentication)) {
    throw new AppError('FORBIDDEN', resourceNotAvailableMessage);
  }
  const action = findAiAction(submission.actionKey);
  if (!action || action.internal) throw new AppError('BAD_USER_INPUT', `Unknown method ${submission.actionKey}`);
  const wantsThread = Boolean(submission.threadId) || Boolean(submission.conversationType);
  if (wantsThread && !action.storesInChatHistory) throw new AppError('BAD_USER_INPUT', threadForChatOnlyMessage);
  const parsed = action.input.safeParse(submission.arguments);
  if (!parsed.success) {
    throw new AppError('BAD_USER_INPUT', describeZodIssues(parsed.error.issues, submission.actionKey));
  }
  const input = parsed.data;
  const resourceIdValue = input.resourceId;
  let resourceGid: string | null = null;
  let resource: Resource | null = null;
  if (typeof resourceIdValue === 'string') {
    const loaded = await services.directory.resource(parseGlobalId(resourceIdValue));
    if (!loaded) throw new AppError('FORBIDDEN', resourceNotAvailableMessage);
    resource = loaded;
    if (!action.resourceTypes.includes(resource.type)) {
      throw new AppError(
        'BAD_USER_INPUT',
        `${submission.actionKey} cannot act on a ${resource.type}; it accepts ${action.resourceTypes.join(', ')}`,
      );
    }
    resourceGid = toGlobalId(resource.type, resource.record.id);
  } else if (action.resourceRequired) {
    throw new AppError('BAD_USER_INPUT', `${submission.actionKey}.resourceId is required`);
  }
  const refusal = await authorizeAiAction(
    { user: authentication.user, action, resource },
    { flags: services.featureFlags, directory: services.directory, bundles: services.bundles },
  );
  if (refusal) throw new AppError('FORBIDDEN', refusal);
  const db = services.database.db;
  // An unknown, expired or other user's thread is refused before the rate limit counts the request.
  let thread: ChatThread | undefined;
  if (submission.threadId) {
    thread = await findChatThread(db, { userId: authentication.user.id, threadId: submission.threadId });
    if (!thread) throw new AppError('NOT_FOUND', threadNotFoundMessage);
  }
  const moderatedInput = await moderateInput(services, action.actionName, input);
  if (action.rateLimitClass === 'ai_action' && !(await services.rateLimiter.consume(authentication.user.id))) {
    throw new AppError('RATE_LIMITED', rateLimitedMessage);
  }
  const command = typeof moderatedInput.content === 'string' ? moderatedInput.content.trim() : undefined;
  const isClear = action.storesInChatHistory && command !== undefined && clearCommands.includes(command);
  if (wantsThread && (!thread || isClear)) {
    // A new thread for `conversationType`; `/clear` on a thread starts a new one of the same type (GitLab's
    // `to_new_thread!`); the old thread keeps its messages until it expires.
    thread = await createChatThread(db, {
      userId: authentication.user.id,
      conversationType: thread?.conversationType ?? submission.conversationType ?? 'duo_chat',
    });
  }

  const requestId = randomUUID();
  // The flags relevant to this request, decided once here so the worker and providers see the same state.
  const flagActor = { userId: authentication.user.id };
  const candidateFlags = [action.featureFlag, `prompt_migration_${action.actionName}`, 'expanded_ai_logging'].filter(
    (name): name is string => typeof name === 'string',
  );
  const enabledFeatureFlags: string[] = [];
  for (const name of candidateFlags) {
    if (await services.featureFlags.isEnabled(name, flagActor, { defaultEnabled: name === action.featureFlag })) {
      enabledFeatureFlags.push(name);
    }
  }
  const jobData: AiActionJobData = aiActionJobDataSchema.parse({
    requestId,
    userId: authentication.user.id,
    actionName: action.actionName,
    resourceGid,
    input: moderatedInput,
    clientSubscriptionId: submission.clientSubscriptionId,
    platformOrigin: submission.platformOrigin,
    enqueuedAt: Date.now(),
    deadlineAt: Date.now() + services.config.AI_REQUEST_DEADLINE_MS,
    enabledFeatureFlags,
    client: clientFromUserAgent(submission.userAgent, submission.platformOrigin),
    ...(thread ? { threadId: thread.id } : {}),
  });
  const threadId = thread?.id ?? null;

  if (action.storesInChatHistory && typeof moderatedInput.content === 'string') {
    // GitLab's ChatService: the prompt is stored and broadcast to every tab before the job runs,
    // so no tab can see the answer before the question.
    const userMessage: AiMessage = {
      id: randomUUID(),
      requestId,
      content: moderatedInput.content,
      contentHtml: null,
      role: 'user',
      timestamp: new Date().toISOString(),
      errors: [],
      type: null,
      chunkId: null,
      extras: { sources: [], hasFeedback: false, status: null, model: null },
    };
    const routing = {
      userGid: toGlobalId('User', authentication.user.id),
      resourceGid,
      actionName: action.actionName,
      clientSubscriptionId: submission.clientSubscriptionId,
    };
    if (thread) {
      // The thread is the only store of its messages: nothing goes to the Redis stream. `/clear` already
      // started a new thread above; `/reset` is kept as the boundary.
      if (!isClear) {
        const added = await addChatThreadMessage(db, {
          userId: authentication.user.id,
          threadId: thread.id,
          message: userMessage,
        });
        if (!added) throw new AppError('NOT_FOUND', threadNotFoundMessage);
      }
      await withRedisAvailable(() => services.pubsub.publish(argumentSetsFor(routing, false), userMessage));
    } else {
      await withRedisAvailable(() =>
        Promise.all([
          // `/clear` wipes the history instead of joining it; `/reset` is kept as the boundary.
          isClear
            ? services.chatHistory.clear(authentication.user.id)
            : services.chatHistory.add(authentication.user.id, userMessage),
          services.pubsub.publish(argumentSetsFor(routing, false), userMessage),
        ]),
      );
    }
    // Neither command calls a model (GitLab's ChatService).
    if (isClear || command === resetCommand) return { requestId, threadId };
  }
  // The owner record and the job go out together: cancelling and resuming check the owner, and neither can
  // happen before this mutation has answered with the request id (the job itself never reads it).
  await withRedisAvailable(() =>
    Promise.all([
      services.requestLog.register(requestId, authentication.user.id),
      services.queue.add(action.actionName, jobData, { jobId: requestId }),
    ]),
  );
  services.metrics.countAiAction(action.actionName);
  const project = resource && 'project' in resource ? resource.project : undefined;
  const groupId = project ? project.groupId : resource && 'group' in resource ? resource.group.id : undefined;
  const rootGroup = groupId === undefined ? undefined : (await services.directory.groupChain(groupId)).at(-1);
  services.tracker.track({
    category: 'Llm::ExecuteMethodService',
    action: 'execute_llm_method',
    label: action.actionName,
    property: 'success',
    userId: authentication.user.id,
    namespaceId: rootGroup?.id ?? null,
    projectId: project?.id ?? null,
    client: jobData.client,
  });
  return { requestId, threadId };
}

/** Keys whose values are ids, not text a user wrote: never moderated or redacted. */
const idKey = /(^|[a-z])Id$/;

/**
 * Runs the feature's moderation policy over every text the user sent (nested message contents too):
 * a flagged input is refused with the policy's message before anything is written; redactions (e-mails,
 * keys, tokens) replace the originals in what is enqueued, so secrets never reach a provider.
 */
async function moderateInput(
  services: ApiServices,
  feature: string,
  input: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const texts: Record<string, string> = {};
  const collect = (value: unknown, path: string) => {
    if (typeof value === 'string') texts[path] = value;
    else if (Array.isArray(value)) {
      for (const [index, item] of value.entries()) collect(item, `${path}.${index}`);
    } else if (value && typeof value === 'object') {
      for (const [key, child] of Object.entries(value))
        if (!idKey.test(key)) collect(child, path ? `${path}.${key}` : key);
    }
  };
  collect(input, '');
  if (Object.keys(texts).length === 0) return input;
  let moderated: Record<string, string>;
  try {
    moderated = (await services.moderator.moderate(feature, texts)).texts;
  } catch (error) {
    if (InputModerationError.isInstance(error)) {
      throw new AppError(error.failure === 'flagged' ? 'BAD_USER_INPUT' : 'SERVICE_UNAVAILABLE', error.message, {
        cause: error,
      });
    }
    throw error;
  }
  const copy = structuredClone(input);
  for (const [path, text] of Object.entries(moderated)) {
    if (texts[path] === text) continue;
    const keys = path.split('.');
    let target: Record<string, unknown> = copy;
    for (const key of keys.slice(0, -1)) target = target[key] as Record<string, unknown>;
    target[keys.at(-1) as string] = text;
  }
  return copy;
}

async function withRedisAvailable<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    throw new AppError('SERVICE_UNAVAILABLE', 'The AI service is temporarily unavailable. Try again later.', {
      cause: error,
    });
  }
}
