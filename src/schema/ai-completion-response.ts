import { aiActionCatalogue } from '../actions/catalogue.ts';
import type { AiMessage } from '../ai-message.ts';
import { canReadResource } from '../auth/authorize.ts';
import { loadResource } from '../auth/resources.ts';
import { canRead } from '../auth/tokens.ts';
import { AppError, resourceNotAvailableMessage } from '../errors.ts';
import { parseGlobalId, toGlobalId } from '../gid.ts';
import { resumeRequest } from '../requests/resume-request.ts';
import { whileReadable } from '../requests/while-readable.ts';
import { AiMessageRef } from './ai-message.ts';
import { builder } from './builder.ts';

/** `AiAction` enum of the subscription, derived from the catalogue: `CHAT` = `chat`, `EXPLAIN_CODE` = `explain_code`. */
export const AiActionEnum = builder.enumType('AiAction', {
  description: 'An AI action, by GitLab name.',
  values: Object.fromEntries(
    aiActionCatalogue
      .filter((action) => !action.internal)
      .map((action) => [action.actionName.toUpperCase(), { value: action.actionName }]),
  ),
});

builder.subscriptionField('aiCompletionResponse', (t) =>
  t.field({
    type: AiMessageRef,
    nullable: true,
    description:
      'Streams AI responses. A subscriber receives the messages triggered on exactly its argument set; userId must be the current user.',
    args: {
      userId: t.arg({ type: 'UserID' }),
      resourceId: t.arg({ type: 'AiModelID' }),
      clientSubscriptionId: t.arg.string(),
      aiAction: t.arg({ type: AiActionEnum }),
      requestId: t.arg.id({
        description:
          'Resume one request after a reconnect: its chunks after `lastChunkId`, then the live ones, then its final message, which ends the subscription.',
      }),
      lastChunkId: t.arg.int({ description: 'With `requestId`: the last chunk the client received (0: none).' }),
    },
    subscribe: async (_root, args, context) => {
      const authentication = context.authentication;
      if (!authentication || !canRead(authentication)) {
        throw new AppError('UNAUTHENTICATED', 'You must be signed in to subscribe to AI responses.');
      }
      const userGid = toGlobalId('User', authentication.user.id);
      if (args.userId !== userGid) {
        throw new AppError('FORBIDDEN', 'You can only subscribe to your own AI responses: userId must be your own.');
      }
      if (args.resourceId) {
        const resource = await context.services.directory.resource(parseGlobalId(args.resourceId));
        if (!resource || !(await canReadResource(context.services.directory, authentication.user, resource))) {
          throw new AppError('FORBIDDEN', resourceNotAvailableMessage);
        }
      }
      if (args.requestId !== null && args.requestId !== undefined) {
        const requestId = String(args.requestId);
        if ((await context.services.requestLog.owner(requestId)) !== authentication.user.id) {
          throw new AppError('FORBIDDEN', "The request does not exist or you don't have permission to read it.");
        }
        return resumeRequest({
          redis: context.services.redis,
          requestLog: context.services.requestLog,
          requestId,
          lastChunkId: Math.max(0, args.lastChunkId ?? 0),
        });
      }
      if (args.lastChunkId !== null && args.lastChunkId !== undefined) {
        throw new AppError('BAD_USER_INPUT', 'lastChunkId needs the requestId of the request to resume.');
      }
      const messages = context.services.pubsub.subscribe({
        userId: userGid,
        resourceId: args.resourceId ?? null,
        clientSubscriptionId: args.clientSubscriptionId ?? null,
        aiAction: (args.aiAction as string | null | undefined) ?? null,
      });
      const { resourceId } = args;
      if (!resourceId) return messages;
      // Re-checked on delivery, from the database (not the 30 s cache): a resource that became unreadable
      // mid-stream (made confidential, user removed) stops the subscription.
      return whileReadable(messages, async () => {
        const resource = await loadResource(context.services.database.db, parseGlobalId(resourceId));
        return (
          resource !== undefined && (await canReadResource(context.services.directory, authentication.user, resource))
        );
      });
    },
    resolve: (message: AiMessage) => message,
  }),
);
