import type { AiMessage, AiMessageExtras } from '../ai-message.ts';
import { builder } from './builder.ts';

export const AiMessageRoleEnum = builder.enumType('AiMessageRole', {
  description: 'Who wrote a message.',
  values: {
    USER: { value: 'user' },
    ASSISTANT: { value: 'assistant' },
    SYSTEM: { value: 'system' },
  } as const,
});

export const AiMessageTypeEnum = builder.enumType('AiMessageType', {
  description: 'Kind of a message: `TOOL` marks a tool-selection notice.',
  values: { TOOL: { value: 'tool' } } as const,
});

export const AiMessageStatusEnum = builder.enumType('AiMessageStatus', {
  description: 'How a request ended, on its final message.',
  values: {
    COMPLETED: { value: 'completed' },
    ERROR: { value: 'error' },
    CANCELLED: { value: 'cancelled' },
    EXPIRED: { value: 'expired' },
  } as const,
});

export const AiMessageExtrasRef = builder.objectRef<AiMessageExtras>('AiMessageExtras').implement({
  description: 'Extra information on a message.',
  fields: (t) => ({
    sources: t.field({
      type: ['JSON'],
      description: 'Documentation sources the answer cites.',
      resolve: (extras) => extras.sources,
    }),
    hasFeedback: t.exposeBoolean('hasFeedback', { description: 'Whether the user gave feedback on the message.' }),
    status: t.field({
      type: AiMessageStatusEnum,
      nullable: true,
      description: 'On the final message of a request: how it ended.',
      resolve: (extras) => extras.status,
    }),
    model: t.exposeString('model', {
      nullable: true,
      description: 'On the final message: the provider and model that answered, e.g. `anthropic:claude-sonnet-4-5`.',
    }),
  }),
});

export const AiMessageRef = builder.objectRef<AiMessage>('AiMessage').implement({
  description: 'A message of an AI conversation or a streamed part of one.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'UUID of the message.' }),
    requestId: t.exposeString('requestId', { description: 'UUID shared by a prompt and its responses.' }),
    content: t.exposeString('content', { description: 'Raw content of the message.' }),
    contentHtml: t.exposeString('contentHtml', {
      nullable: true,
      description: 'Content rendered to sanitized HTML; null on chunks and errored messages.',
    }),
    role: t.field({ type: AiMessageRoleEnum, nullable: false, resolve: (message) => message.role }),
    timestamp: t.field({ type: 'Time', nullable: false, resolve: (message) => message.timestamp }),
    errors: t.exposeStringList('errors', { description: 'Errors, in words a user can act on.' }),
    type: t.field({ type: AiMessageTypeEnum, nullable: true, resolve: (message) => message.type }),
    chunkId: t.exposeInt('chunkId', { nullable: true, description: 'Incremental id of a streamed chunk, from 1.' }),
    extras: t.field({ type: AiMessageExtrasRef, resolve: (message) => message.extras }),
  }),
});
