import type { AiMessage } from '../ai-message.ts';
import { canUseAiFeatures } from '../auth/tokens.ts';
import {
  chatThreadMessages,
  listChatThreads,
  markChatThreadMessageFeedback,
  threadNotFoundMessage,
} from '../chat/chat-threads.ts';
import { storedMessageHtml } from '../chat/message-html.ts';
import { AppError, resourceNotAvailableMessage } from '../errors.ts';
import { ConversationTypeEnum, threadIdOf } from './ai-conversation-threads.ts';
import { AiMessageRef, AiMessageRoleEnum } from './ai-message.ts';
import { builder } from './builder.ts';

interface AiMessageConnectionShape {
  nodes: AiMessage[];
}

const AiMessageConnectionRef = builder.objectRef<AiMessageConnectionShape>('AiMessageConnection').implement({
  description: 'The connection type for AiMessage.',
  fields: (t) => ({
    nodes: t.field({ type: [AiMessageRef], nullable: false, resolve: (connection) => connection.nodes }),
  }),
});

builder.queryField('aiMessages', (t) =>
  t.field({
    type: AiMessageConnectionRef,
    nullable: false,
    description:
      "Find GitLab Duo Chat messages: the caller's own history, oldest first. From a thread when `threadId` or `conversationType` is given, otherwise from the Redis stream.",
    args: {
      requestIds: t.arg({ type: ['ID'], required: false, description: 'Only messages of these requests.' }),
      roles: t.arg({ type: [AiMessageRoleEnum], required: false, description: 'Only messages with these roles.' }),
      threadId: t.arg({
        type: 'AiConversationThreadID',
        required: false,
        description: 'The 50 most recent messages of this thread of yours.',
      }),
      conversationType: t.arg({
        type: ConversationTypeEnum,
        required: false,
        description: 'Without `threadId`: your most recently active thread of this type (none: no messages).',
      }),
    },
    resolve: async (_root, args, context) => {
      const user = context.authentication?.user;
      // GitLab returns nothing without a user; a user only ever reads their own stream and threads.
      if (!user) return { nodes: [] };
      const filters = { requestIds: args.requestIds ?? null, roles: args.roles ?? null };
      const db = context.services.database.db;
      let messages: AiMessage[];
      if (args.threadId) {
        const found = await chatThreadMessages(db, { userId: user.id, threadId: threadIdOf(args.threadId), filters });
        if (!found) throw new AppError('NOT_FOUND', threadNotFoundMessage);
        messages = found;
      } else if (args.conversationType) {
        const [latest] = await listChatThreads(db, { userId: user.id, conversationType: args.conversationType });
        messages = latest
          ? ((await chatThreadMessages(db, { userId: user.id, threadId: latest.id, filters })) ?? [])
          : [];
      } else {
        messages = await context.services.chatHistory.messages(user.id, filters);
      }
      return {
        nodes: messages.map((message) => ({
          ...message,
          contentHtml: storedMessageHtml(message, context.services.restConfig.GITLAB_URL),
        })),
      };
    },
  }),
);

interface DuoUserFeedbackPayload {
  errors: string[];
  clientMutationId: string | null;
}

const DuoUserFeedbackPayloadRef = builder.objectRef<DuoUserFeedbackPayload>('DuoUserFeedbackPayload').implement({
  fields: (t) => ({
    errors: t.exposeStringList('errors', { nullable: false }),
    clientMutationId: t.exposeString('clientMutationId', { nullable: true }),
  }),
});

const DuoUserFeedbackInput = builder.inputType('DuoUserFeedbackInput', {
  fields: (t) => ({
    aiMessageId: t.string({ required: true, description: 'ID of the AI message.' }),
    extendedFeedback: t.string({ description: 'Freeform feedback; sent to tracking, not stored.' }),
    selectedFeedbackOptions: t.stringList({ description: 'Chosen feedback options.' }),
    clientMutationId: t.string(),
  }),
});

builder.mutationField('duoUserFeedback', (t) =>
  t.field({
    type: DuoUserFeedbackPayloadRef,
    nullable: false,
    description: 'Marks a message of your chat history (the Redis stream or one of your threads) as having feedback.',
    args: { input: t.arg({ type: DuoUserFeedbackInput, required: true }) },
    resolve: async (_root, { input }, context) => {
      // Feedback is a write: it needs a token that may use AI features (`api` or `ai_features`), not `read_api`.
      const user = canUseAiFeatures(context.authentication) ? context.authentication?.user : undefined;
      const marked =
        user &&
        ((await context.services.chatHistory.markFeedback(user.id, input.aiMessageId)) ||
          (await markChatThreadMessageFeedback(context.services.database.db, {
            userId: user.id,
            messageId: input.aiMessageId,
          })));
      if (!marked) throw new AppError('NOT_FOUND', resourceNotAvailableMessage);
      return { errors: [], clientMutationId: input.clientMutationId ?? null };
    },
  }),
);
