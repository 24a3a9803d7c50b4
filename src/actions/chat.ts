import { z } from 'zod';
import { defineAiAction } from './define-ai-action.ts';
import { describeResource } from './describe-resource.ts';
import { globalIdField, nonBlankText } from './input-fields.ts';

/** `API::CodeSuggestions::MAX_CONTENT_SIZE`, GitLab's cap for text a user sends to chat. */
export const maxChatContentLength = 400_000;

/** GitLab's prompt budget for chat: history is added newest first until it is spent. */
export const maxPromptCharacters = 30_000;

/** Earlier turns as quoted data, newest kept first when the budget runs out, printed oldest first. */
function conversationBlock(conversation: readonly { role: string; content: string }[], budget: number): string {
  const kept: string[] = [];
  let remaining = budget;
  for (const turn of [...conversation].reverse()) {
    const line = `${turn.role === 'user' ? 'User' : 'Assistant'}: ${turn.content}`;
    if (line.length > remaining) break;
    kept.unshift(line);
    remaining -= line.length;
  }
  return kept.length > 0 ? `<conversation>\n${kept.join('\n')}\n</conversation>\n\n` : '';
}

const chatInput = z.object({
  resourceId: globalIdField('AiModelID').optional(),
  namespaceId: globalIdField('NamespaceID').optional(),
  content: nonBlankText(maxChatContentLength),
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
  promptVariables: ['conversation_block', 'resource_block', 'question'],
  storesInChatHistory: true,
  exampleInput: { content: 'How do I create a merge request?' },
  async plan({ input, resource, conversation }) {
    const resourceText = resource && resource.type !== 'User' ? describeResource(resource) : undefined;
    return {
      kind: 'prompt',
      variables: {
        conversation_block: conversationBlock(conversation, maxPromptCharacters - input.content.length),
        resource_block: resourceText ? `<resource>\n${resourceText}\n</resource>\n\n` : '',
        question: input.content,
      },
    };
  },
});
