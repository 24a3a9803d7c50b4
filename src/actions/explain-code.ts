import { z } from 'zod';
import { defineAiAction } from './define-ai-action.ts';
import { globalIdField, nonBlankText } from './input-fields.ts';

/** GitLab's `ExplainCodeService` cap: (4096 − 300) tokens × 4 characters, over all messages together. */
export const maxExplainCodeCharacters = (4_096 - 300) * 4;

const explainCodeInput = z.object({
  resourceId: globalIdField('AiModelID'),
  messages: z
    .array(
      z.object({ role: nonBlankText(maxExplainCodeCharacters), content: nonBlankText(maxExplainCodeCharacters) }).meta({
        graphqlName: 'AiExplainCodeMessageInput',
      }),
    )
    .min(1, { error: "can't be blank" })
    .refine(
      (messages) => messages.reduce((total, message) => total + message.content.length, 0) <= maxExplainCodeCharacters,
      { error: 'The messages are too big' },
    ),
});

export const explainCodeAction = defineAiAction({
  name: 'explainCode',
  actionName: 'explain_code',
  description: 'Explain a piece of code the user selected in a project.',
  maturity: 'experimental',
  graphqlInputName: 'AiExplainCodeInput',
  input: explainCodeInput,
  resourceTypes: ['Project'],
  resourceRequired: true,
  selfManaged: false,
  internal: false,
  unitPrimitive: 'explain_code',
  featureFlag: 'explain_code',
  rateLimitClass: 'ai_action',
  promptVariables: ['code'],
  storesInChatHistory: false,
  exampleInput: {
    resourceId: 'gid://gitlab/Project/1',
    messages: [{ role: 'user', content: 'def add(a, b):\n    return a + b' }],
  },
  async plan({ input }) {
    return {
      kind: 'prompt',
      variables: { code: input.messages.map((message) => message.content).join('\n\n') },
    };
  },
});
