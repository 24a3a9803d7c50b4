import { z } from 'zod';
import { matchSlashCommand } from '../chat/slash-commands.ts';
import { defineAiAction } from './define-ai-action.ts';
import { globalIdField, nonBlankText } from './input-fields.ts';

/** `API::CodeSuggestions::MAX_CONTENT_SIZE`, GitLab's cap for text a user sends to chat. */
export const maxChatContentLength = 400_000;

/** GitLab's `AiCurrentFileInput`: the file open in the IDE and the code the user selected. */
const currentFileInput = z
  .object({
    fileName: z.string().max(1_000, { error: 'is too long (maximum is 1000 characters)' }),
    selectedText: z
      .string()
      .max(maxChatContentLength, { error: `is too long (maximum is ${maxChatContentLength} characters)` }),
    contentAboveCursor: z
      .string()
      .max(maxChatContentLength, { error: `is too long (maximum is ${maxChatContentLength} characters)` })
      .optional(),
    contentBelowCursor: z
      .string()
      .max(maxChatContentLength, { error: `is too long (maximum is ${maxChatContentLength} characters)` })
      .optional(),
  })
  .meta({ graphqlName: 'AiCurrentFileInput' });

const chatInput = z.object({
  resourceId: globalIdField('AiModelID').optional(),
  namespaceId: globalIdField('NamespaceID').optional(),
  content: nonBlankText(maxChatContentLength),
  currentFile: currentFileInput.optional(),
});

export const chatAction = defineAiAction({
  name: 'chat',
  actionName: 'chat',
  description: 'Ask GitLab Duo Chat a question, optionally about an issue, epic, merge request or CI job.',
  maturity: 'ga',
  graphqlInputName: 'AiChatInput',
  input: chatInput,
  resourceTypes: ['Issue', 'Epic', 'MergeRequest', 'Ci::Build', 'Project', 'Group', 'User'],
  resourceRequired: false,
  selfManaged: true,
  internal: false,
  unitPrimitive: 'duo_chat',
  rateLimitClass: 'ai_action',
  promptVariables: [
    'tools_definitions',
    'tool_names',
    'resources',
    'current_resource',
    'current_code',
    'question',
    'agent_scratchpad',
  ],
  storesInChatHistory: true,
  exampleInput: { content: 'How do I create a merge request?' },
  /** A known slash command bypasses the agent (reference §5.6); anything else is the agent's question. */
  async plan(context) {
    const { content, currentFile } = context.input;
    const slash = matchSlashCommand(content);
    if (slash) return slash.command.plan({ run: context, input: slash.input, currentFile });
    return { kind: 'agent', question: content, currentFile };
  },
});
