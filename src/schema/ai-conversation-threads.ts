import { type ChatThread, listChatThreads } from '../chat/chat-threads.ts';
import type { ConversationType } from '../db/schema/ai-conversation-threads.ts';
import { parseGlobalIdOf, toGlobalId } from '../gid.ts';
import { builder } from './builder.ts';

/** The database id of an `AiConversationThreadID` (the scalar has already checked its type). */
export function threadIdOf(globalId: string): number {
  return parseGlobalIdOf(globalId, ['Ai::Conversation::Thread']).id;
}

export function threadGlobalId(threadId: number): string {
  return toGlobalId('Ai::Conversation::Thread', threadId);
}

export const ConversationTypeEnum = builder.enumType('AiConversationsThreadsConversationType', {
  description: 'Conversation type of a thread.',
  values: {
    DUO_CHAT: { value: 'duo_chat', description: 'Duo Chat.' },
    DUO_QUICK_CHAT: { value: 'duo_quick_chat', description: 'Duo Quick Chat.' },
    DUO_CODE_REVIEW: { value: 'duo_code_review', description: 'Duo Code Review.' },
  } as const satisfies Record<string, { value: ConversationType; description: string }>,
});

const AiConversationsThreadRef = builder.objectRef<ChatThread>('AiConversationsThread').implement({
  description: 'A conversation thread: chat history kept in Postgres, deleted after 30 days without activity.',
  fields: (t) => ({
    id: t.field({
      type: 'AiConversationThreadID',
      nullable: false,
      description: 'ID of the thread.',
      resolve: (thread) => threadGlobalId(thread.id),
    }),
    conversationType: t.field({
      type: ConversationTypeEnum,
      nullable: false,
      description: 'Conversation type of the thread.',
      resolve: (thread) => thread.conversationType,
    }),
    title: t.exposeString('title', { nullable: true, description: 'The first question of the thread.' }),
    createdAt: t.field({
      type: 'Time',
      nullable: false,
      description: 'When the thread was created.',
      resolve: (thread) => thread.createdAt.toISOString(),
    }),
    lastUpdatedAt: t.field({
      type: 'Time',
      nullable: false,
      description: 'When the thread last had a message; it expires 30 days later.',
      resolve: (thread) => thread.lastUpdatedAt.toISOString(),
    }),
  }),
});

const AiConversationsThreadConnectionRef = builder
  .objectRef<{ nodes: ChatThread[] }>('AiConversationsThreadConnection')
  .implement({
    description: 'The connection type for AiConversationsThread.',
    fields: (t) => ({
      nodes: t.field({
        type: [AiConversationsThreadRef],
        nullable: false,
        resolve: (connection) => connection.nodes,
      }),
    }),
  });

builder.queryField('aiConversationThreads', (t) =>
  t.field({
    type: AiConversationsThreadConnectionRef,
    nullable: false,
    description: "The caller's own conversation threads, most recent activity first.",
    args: {
      conversationType: t.arg({ type: ConversationTypeEnum, description: 'Only threads of this type.' }),
      id: t.arg({ type: 'AiConversationThreadID', description: 'Only this thread.' }),
    },
    resolve: async (_root, args, context) => {
      const user = context.authentication?.user;
      // Like aiMessages: nothing without a user, and only ever the caller's own threads.
      if (!user) return { nodes: [] };
      const nodes = await listChatThreads(context.services.database.db, {
        userId: user.id,
        conversationType: args.conversationType ?? null,
        threadId: args.id ? threadIdOf(args.id) : null,
      });
      return { nodes };
    },
  }),
);
