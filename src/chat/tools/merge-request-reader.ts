import { headWithinBudget } from '../../actions/describe-resource.ts';
import { type ChatTool, notFound } from './chat-tool.ts';
import { quoteResource } from './quote-observation.ts';
import { readableComments, readReferencedResource } from './read-referenced-resource.ts';

/** The diff's share of an observation: the description and comments usually matter more. */
const maxDiffCharacters = 6_000;

export const mergeRequestReader: ChatTool = {
  name: 'MergeRequestReader',
  humanName: 'Merge Request Search',
  resourceName: 'merge request',
  description:
    'Gets the content of the current merge request (also referenced as this or that) the user sees, or of a specific merge request identified by a number (!12), a reference (group/project!12) or a URL, including its diff and comments. Action Input for this tool should be the original question or the merge request identifier.',
  example: [
    'Question: Summarize the changes of !52',
    'Thought: The question is about a merge request, so you need to use the "MergeRequestReader" tool to read it.',
    'Action: MergeRequestReader',
    'Action Input: Summarize the changes of !52',
  ].join('\n'),
  async run(input, context) {
    const mergeRequest = await readReferencedResource(context, 'merge_request', input);
    if (!mergeRequest) return notFound();
    const comments = await readableComments(context, mergeRequest);
    return {
      kind: 'observation',
      content: quoteResource('merge_request', {
        reference: `${mergeRequest.project.fullPath}!${mergeRequest.record.iid}`,
        title: mergeRequest.record.title,
        state: mergeRequest.record.state,
        source_branch: mergeRequest.record.sourceBranch,
        target_branch: mergeRequest.record.targetBranch,
        author_id: mergeRequest.record.authorId,
        description: mergeRequest.record.description,
        commits: mergeRequest.record.commits,
        diff: headWithinBudget(mergeRequest.record.diff, maxDiffCharacters),
        comments,
      }),
    };
  },
};
