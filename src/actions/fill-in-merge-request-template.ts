import { z } from 'zod';
import { defineAiAction } from './define-ai-action.ts';
import {
  findOpenMergeRequest,
  headWithinBudget,
  maxDiffCharacters,
  quoteData,
  resolveSourceProject,
} from './describe-resource.ts';
import { maxDescriptionLength } from './generate-description.ts';
import { globalIdField, nonBlankText } from './input-fields.ts';
import { maxBranchNameLength, sourceProjectIdField } from './summarize-new-merge-request.ts';

/** GitLab's cap on a merge request title (`Issuable` validates 255). */
export const maxTitleLength = 255;

/**
 * The filled-in template is the answer, so the template must fit in the answer: 12,000 characters is about
 * 3,000 tokens, leaving a quarter of the 4,096 output tokens for what the model adds. (GitLab cut templates
 * to 600 words for the same reason, against a 1,024-token answer.)
 */
export const maxTemplateCharacters = 12_000;

export const fillInMergeRequestTemplateAction = defineAiAction({
  name: 'fillInMergeRequestTemplate',
  actionName: 'fill_in_merge_request_template',
  description: 'Fill in a merge request description template from the title and the changes between two branches.',
  maturity: 'experimental',
  graphqlInputName: 'AiFillInMergeRequestTemplateInput',
  input: z.object({
    resourceId: globalIdField('AiModelID'),
    title: nonBlankText(maxTitleLength),
    sourceProjectId: sourceProjectIdField.optional(),
    sourceBranch: nonBlankText(maxBranchNameLength),
    targetBranch: nonBlankText(maxBranchNameLength),
    content: nonBlankText(maxDescriptionLength),
  }),
  resourceTypes: ['Project'],
  resourceRequired: true,
  selfManaged: false,
  internal: false,
  unitPrimitive: 'fill_in_merge_request_template',
  featureFlag: 'fill_in_merge_request_template',
  rateLimitClass: 'ai_action',
  promptVariables: ['title', 'diff', 'template'],
  storesInChatHistory: false,
  exampleInput: {
    resourceId: 'gid://gitlab/Project/1',
    title: 'Re-authenticate the pipeline cable after a 401',
    sourceBranch: 'fix-cable-reauth',
    targetBranch: 'main',
    content: '## What does this MR do?\n\n## How to test\n\n<!-- AI Skip -->\n## Checklist\n- [ ] Tests added',
  },
  async plan({ db, user, resource, input }) {
    if (resource?.type !== 'Project') {
      return { kind: 'answer', content: 'I am sorry, I am unable to find what you are looking for.' };
    }
    const sourceProject = await resolveSourceProject(db, user, resource.record, input.sourceProjectId);
    const mergeRequest = await findOpenMergeRequest(db, sourceProject, resource.record, input);
    // As in GitLab, a missing diff does not stop the action: the template is still filled from the title.
    const diff = mergeRequest?.diff.trim() ? headWithinBudget(mergeRequest.diff, maxDiffCharacters) : '';
    return {
      kind: 'prompt',
      variables: {
        title: quoteData(input.title, 'title'),
        diff: diff ? quoteData(diff, 'diff') : '(no changes found between these branches)',
        template: quoteData(headWithinBudget(input.content, maxTemplateCharacters), 'template'),
      },
    };
  },
});
