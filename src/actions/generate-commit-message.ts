import { z } from 'zod';
import { defineAiAction } from './define-ai-action.ts';
import { headWithinBudget, maxDiffCharacters, quoteData } from './describe-resource.ts';
import { globalIdField } from './input-fields.ts';

export const generateCommitMessageAction = defineAiAction({
  name: 'generateCommitMessage',
  actionName: 'generate_commit_message',
  description: 'Write the merge commit message of a merge request from its title and diff.',
  maturity: 'ga',
  graphqlInputName: 'AiGenerateCommitMessageInput',
  input: z.object({ resourceId: globalIdField('AiModelID') }),
  resourceTypes: ['MergeRequest'],
  resourceRequired: true,
  selfManaged: true,
  internal: false,
  unitPrimitive: 'generate_commit_message',
  featureFlag: 'generate_commit_message',
  rateLimitClass: 'ai_action',
  promptVariables: ['title', 'diff'],
  storesInChatHistory: false,
  exampleInput: { resourceId: 'gid://gitlab/MergeRequest/1' },
  async plan({ resource }) {
    if (resource?.type !== 'MergeRequest') {
      return { kind: 'answer', content: 'I am sorry, I am unable to find what you are looking for.' };
    }
    if (resource.record.diff.trim() === '') {
      return {
        kind: 'answer',
        content: `Merge request !${resource.record.iid} has no changes, so there is no commit message to write.`,
      };
    }
    return {
      kind: 'prompt',
      variables: {
        title: quoteData(resource.record.title, 'title'),
        diff: quoteData(headWithinBudget(resource.record.diff, maxDiffCharacters), 'diff'),
      },
    };
  },
});
