import { randomUUID } from 'node:crypto';
import type { AiMessage } from '../ai-message.ts';
import { authorizeAiAction } from '../auth/ai-authorization.ts';
import type { Resource } from '../auth/resources.ts';
import { type Authentication, canUseAiFeatures } from '../auth/tokens.ts';
import { clearCommands, resetCommand } from '../chat/chat-history.ts';
import type { ApiServices } from '../context.ts';
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
  /** The request's User-Agent, for the tracking `client`. */
  userAgent?: string | null;
}

/** GitLab's message when zero or several action keys are sent. */
export const oneActionKeyMessage = 'Only one method argument is required';

function describeZodIssues(issues: readonly { path: PropertyKey[]; message: string }[], actionKey: string): string {
  return issues
    .map((issue) => {
      const path = [actionKey, ...issue.path.map(String)].join('.');
      return /^[A-Z]/.test(issue.message) ? issue.message : `${path} ${issue.message}`;
    })
    .join('; ');
}

/**
 * Validates, authorizes and enqueues one AI action; returns its request id. Every refusal throws an
 * AppError before anything is written or enqueued.
 */
export async function submitAiAction(
  services: ApiServices,
  authentication: Authentication | undefined,
  submission: AiActionSubmission,
): Promise<{ requestId: string }> {
  if (!authentication || !canUseAiFeatures(authentication)) {
    throw new AppError('FORBIDDEN', resourceNotAvailableMessage);
  }
  const action = findAiAction(submission.actionKey);
  if (!action || action.internal) throw new AppError('BAD_USER_INPUT', `Unknown method ${submission.actionKey}`);
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
  const moderatedInput = await moderateInput(services, action.actionName, input);
  if (action.rateLimitClass === 'ai_action' && !(await services.rateLimiter.consume(authentication.user.id))) {
    throw new AppError('RATE_LIMITED', rateLimitedMessage);
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
    enabledFeatureFlags,
    client: clientFromUserAgent(submission.userAgent, submission.platformOrigin),
  });

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
    const command = moderatedInput.content.trim();
    const isClear = clearCommands.includes(command);
    await withRedisAvailable(() =>
      Promise.all([
        // `/clear` wipes the history instead of joining it; `/reset` is kept as the boundary.
        isClear
          ? services.chatHistory.clear(authentication.user.id)
          : services.chatHistory.add(authentication.user.id, userMessage),
        services.pubsub.publish(argumentSetsFor(routing, false), userMessage),
      ]),
    );
    // Neither command calls a model (GitLab's ChatService).
    if (isClear || command === resetCommand) return { requestId };
  }
  await withRedisAvailable(() => services.queue.add(action.actionName, jobData, { jobId: requestId }));
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
  return { requestId };
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
