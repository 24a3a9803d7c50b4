import { type ChatTool, notFound } from './chat-tool.ts';
import { quoteResource } from './quote-observation.ts';
import { readableComments, readReferencedResource } from './read-referenced-resource.ts';

export const issueReader: ChatTool = {
  name: 'IssueReader',
  humanName: 'Issue Search',
  resourceName: 'issue',
  description:
    'Gets the content of the current issue (also referenced as this or that) the user sees, or of a specific issue identified by a number (#12), a reference (group/project#12) or a URL. In this context, issue means the core building block in GitLab for collaboration, discussions, planning and tracking of work. Action Input for this tool should be the original question or the issue identifier.',
  example: [
    'Question: Please identify the author of #123 issue',
    'Thought: You have access to the same resources as the user who asks the question. The question is about the content of an issue, so you need to use the "IssueReader" tool to retrieve and read the issue. Based on this information you can present the final answer about the issue.',
    'Action: IssueReader',
    'Action Input: Please identify the author of #123 issue',
  ].join('\n'),
  async run(input, context) {
    const issue = await readReferencedResource(context, 'issue', input);
    if (!issue) return notFound();
    const comments = await readableComments(context, issue);
    return {
      kind: 'observation',
      content: quoteResource('issue', {
        reference: `${issue.project.fullPath}#${issue.record.iid}`,
        title: issue.record.title,
        state: issue.record.state,
        confidential: issue.record.confidential,
        author_id: issue.record.authorId,
        assignee_id: issue.record.assigneeId,
        created_at: issue.record.createdAt.toISOString(),
        description: issue.record.description,
        comments,
      }),
    };
  },
};
