import { parseDocumentationAnswer } from '../../rag/documentation-answer.ts';
import type { ChatTool } from './chat-tool.ts';
import { streamToolAnswer } from './stream-tool-answer.ts';

/** Told to the agent when no documentation answers: it may still answer, and must say so. */
export const noDocumentationObservation =
  'No GitLab documentation on this instance matches this question. If you answer from your own knowledge, say that the answer does not come from the documentation.';

export const gitlabDocumentation: ChatTool = {
  name: 'GitlabDocumentation',
  humanName: 'GitLab Documentation',
  resourceName: 'documentation answer',
  description:
    'This tool is beneficial when you need to answer questions about GitLab: how to use it, configure it, or what a feature does. It searches the GitLab documentation and answers with links to the pages it used. Action Input for this tool should be the original question.',
  example: [
    'Question: How do I set up a new project?',
    'Thought: The question is about how to use GitLab, so the "GitlabDocumentation" tool can answer it.',
    'Action: GitlabDocumentation',
    'Action Input: How do I set up a new project?',
  ].join('\n'),
  async run(input, context) {
    const query = input.trim() === '' ? context.question : input;
    const plan = context.documentation
      ? await context.documentation.retrieve(query, context.signal).catch((error: unknown) => {
          context.logger.warn({ err: error }, 'documentation search failed; the agent answers without it');
          return undefined;
        })
      : undefined;
    if (!plan) return { kind: 'observation', content: noDocumentationObservation };
    const text = await streamToolAnswer(context, plan.request, 'ATTRS:');
    const answer = parseDocumentationAnswer(text, plan.chunks);
    return {
      kind: 'final',
      status: 'completed',
      content: answer.content,
      sources: answer.sources as unknown as Record<string, unknown>[],
      streamed: true,
    };
  },
};
