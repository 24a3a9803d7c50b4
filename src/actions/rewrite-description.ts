import { z } from 'zod';
import { defineAiAction } from './define-ai-action.ts';
import { quoteData } from './describe-resource.ts';
import { globalIdField, nonBlankText } from './input-fields.ts';

/** The rewrite prompt is one instruction typed by the user; 10,000 characters is far more than one needs. */
export const maxRewritePromptLength = 10_000;

export const rewriteDescriptionAction = defineAiAction({
  name: 'rewriteDescription',
  actionName: 'rewrite_description',
  description: "Rewrite an issue's description as the user asks (shorter, clearer, as a user story, …).",
  maturity: 'experimental',
  graphqlInputName: 'AiRewriteDescriptionInput',
  input: z.object({ resourceId: globalIdField('AiModelID'), content: nonBlankText(maxRewritePromptLength) }),
  resourceTypes: ['Issue'],
  resourceRequired: true,
  selfManaged: false,
  internal: false,
  unitPrimitive: 'rewrite_issue_description',
  featureFlag: 'rewrite_description',
  rateLimitClass: 'ai_action',
  promptVariables: ['description', 'prompt'],
  storesInChatHistory: false,
  exampleInput: { resourceId: 'gid://gitlab/Issue/1', content: 'Make it shorter and add steps to reproduce.' },
  async plan({ resource, input }) {
    if (resource?.type !== 'Issue') {
      return { kind: 'answer', content: 'I am sorry, I am unable to find what you are looking for.' };
    }
    return {
      kind: 'prompt',
      variables: {
        description: quoteData(resource.record.description, 'description'),
        prompt: quoteData(input.content, 'prompt'),
      },
    };
  },
});
