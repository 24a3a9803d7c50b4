import { z } from 'zod';
import { defineAiAction } from './define-ai-action.ts';
import {
  findOpenMergeRequest,
  headWithinBudget,
  maxDiffCharacters,
  projectIdPattern,
  quoteData,
  resolveSourceProject,
} from './describe-resource.ts';
import { globalIdField, nonBlankText } from './input-fields.ts';

/** Git keeps a branch as a file under `refs/heads/`: 255 characters is the file-name limit of common filesystems. */
export const maxBranchNameLength = 255;

/** GitLab's `sourceProjectId: ID`: a project id, or a Project global id. */
export const sourceProjectIdField = z
  .string()
  .regex(projectIdPattern, { error: 'is not a valid project id' })
  .meta({ graphqlType: 'ID' });

export const summarizeNewMergeRequestAction = defineAiAction({
  name: 'summarizeNewMergeRequest',
  actionName: 'summarize_new_merge_request',
  description: 'Summarize the changes between two branches, for the description of a new merge request.',
  maturity: 'experimental',
  graphqlInputName: 'AiSummarizeNewMergeRequestInput',
  input: z.object({
    resourceId: globalIdField('AiModelID'),
    sourceProjectId: sourceProjectIdField.optional(),
    sourceBranch: nonBlankText(maxBranchNameLength),
    targetBranch: nonBlankText(maxBranchNameLength),
  }),
  resourceTypes: ['Project'],
  resourceRequired: true,
  selfManaged: false,
  internal: false,
  unitPrimitive: 'summarize_new_merge_request',
  featureFlag: 'summarize_new_merge_request',
  rateLimitClass: 'ai_action',
  promptVariables: ['diff'],
  storesInChatHistory: false,
  exampleInput: { resourceId: 'gid://gitlab/Project/1', sourceBranch: 'fix-cable-reauth', targetBranch: 'main' },
  async plan({ db, user, resource, input }) {
    if (resource?.type !== 'Project') {
      return { kind: 'answer', content: 'I am sorry, I am unable to find what you are looking for.' };
    }
    const sourceProject = await resolveSourceProject(db, user, resource.record, input.sourceProjectId);
    const mergeRequest = await findOpenMergeRequest(db, sourceProject, resource.record, input);
    if (!mergeRequest || mergeRequest.diff.trim() === '') {
      return {
        kind: 'answer',
        content: `I found no changes from ${input.sourceBranch} into ${input.targetBranch} in ${resource.record.fullPath}, so there is nothing to summarize.`,
      };
    }
    return {
      kind: 'prompt',
      variables: { diff: quoteData(headWithinBudget(mergeRequest.diff, maxDiffCharacters), 'diff') },
    };
  },
});
