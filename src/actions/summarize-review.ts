import { randomInt } from 'node:crypto';
import { z } from 'zod';
import { defineAiAction } from './define-ai-action.ts';
import { mergeRequestComments } from './describe-resource.ts';
import { globalIdField } from './input-fields.ts';
import { maxNotesCharacters } from './summarize-comments.ts';

export const summarizeReviewAction = defineAiAction({
  name: 'summarizeReview',
  actionName: 'summarize_review',
  description: 'Summarize the review comments of a merge request.',
  maturity: 'experimental',
  graphqlInputName: 'AiSummarizeReviewInput',
  input: z.object({ resourceId: globalIdField('AiModelID') }),
  resourceTypes: ['MergeRequest'],
  resourceRequired: true,
  selfManaged: false,
  internal: false,
  unitPrimitive: 'summarize_review',
  featureFlag: 'summarize_review',
  rateLimitClass: 'ai_action',
  promptVariables: ['resource_label', 'delimiter', 'comments'],
  storesInChatHistory: false,
  exampleInput: { resourceId: 'gid://gitlab/MergeRequest/1' },
  async plan({ db, user, resource }) {
    if (resource?.type !== 'MergeRequest') {
      return { kind: 'answer', content: 'I am sorry, I am unable to find what you are looking for.' };
    }
    const label = `Merge request !${resource.record.iid}`;
    const comments = await mergeRequestComments(db, user, resource);
    if (comments.length === 0) return { kind: 'answer', content: `${label} has no review comments to be summarized.` };
    let budget = maxNotesCharacters;
    const kept: string[] = [];
    for (const comment of comments) {
      if (comment.length > budget) break;
      kept.push(comment);
      budget -= comment.length;
    }
    // A random delimiter the reviewers cannot predict, so a comment cannot close its block early.
    const delimiter = String(randomInt(100, 1_000));
    const wrapped = kept.map((comment) => `<${delimiter}>${comment}</${delimiter}>`).join('\n');
    return { kind: 'prompt', variables: { resource_label: label, delimiter, comments: wrapped } };
  },
});
