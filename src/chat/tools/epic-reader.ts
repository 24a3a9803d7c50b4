import { type ChatTool, notFound } from './chat-tool.ts';
import { quoteResource } from './quote-observation.ts';
import { readableComments, readReferencedResource } from './read-referenced-resource.ts';

export const epicReader: ChatTool = {
  name: 'EpicReader',
  humanName: 'Epic Search',
  resourceName: 'epic',
  description:
    'Gets the content of the current epic (also referenced as this or that) the user sees, or of a specific epic identified by a number (&12), a reference (group&12) or a URL. In this context, epic means a high-level plan that groups issues. Action Input for this tool should be the original question or the epic identifier.',
  example: [
    'Question: What is the goal of epic &7?',
    'Thought: The question is about an epic, so you need to use the "EpicReader" tool to retrieve and read the epic.',
    'Action: EpicReader',
    'Action Input: What is the goal of epic &7?',
  ].join('\n'),
  async run(input, context) {
    const epic = await readReferencedResource(context, 'epic', input);
    if (!epic) return notFound();
    const comments = await readableComments(context, epic);
    return {
      kind: 'observation',
      content: quoteResource('epic', {
        reference: `${epic.group.fullPath}&${epic.record.iid}`,
        title: epic.record.title,
        state: epic.record.state,
        confidential: epic.record.confidential,
        author_id: epic.record.authorId,
        description: epic.record.description,
        comments,
      }),
    };
  },
};
