import { z } from 'zod';
import { maxChatContentLength } from './chat.ts';
import { defineAiAction } from './define-ai-action.ts';
import { quoteData } from './describe-resource.ts';
import { nonBlankText } from './input-fields.ts';

/** GitLab's top-level chat question categories (`categories.xml`), with what each one covers. */
export const chatQuestionCategories = {
  'Documentation about GitLab': 'how GitLab or GitLab Duo works: features, settings, CI/CD, issues, merge requests',
  'Explain something besides code': 'explain an issue, epic, merge request, pipeline, job failure or vulnerability',
  'General documentation': 'general questions about code, DevOps or git, not specific to GitLab',
  'List something': 'list issues, merge requests, epics, pipelines or members',
  Other: 'anything that fits no other category',
  Status: 'the status or attributes of an issue, epic, merge request or pipeline',
  'Summarize something': 'summarize an issue, epic, merge request, comments, pipeline, project or other content',
  'Take an action in GitLab': 'create, edit, close, assign, approve, merge, retry or delete something',
  'Write or rewrite something (not code)': 'write or rewrite a comment, description, documentation or wiki page',
  'Write, improve, or explain code': 'write, refactor, test, debug or explain code',
} as const;

export const categorizeQuestionAction = defineAiAction({
  name: 'categorizeQuestion',
  actionName: 'categorize_question',
  description: 'Internal: sort a Duo Chat question into GitLab question categories, as JSON, for product analytics.',
  maturity: 'ga',
  graphqlInputName: 'AiCategorizeQuestionInput',
  input: z.object({ question: nonBlankText(maxChatContentLength) }),
  resourceTypes: [],
  resourceRequired: false,
  selfManaged: false,
  internal: true,
  unitPrimitive: 'categorize_duo_chat_question',
  featureFlag: 'categorize_question',
  rateLimitClass: 'none',
  promptVariables: ['categories', 'question'],
  storesInChatHistory: false,
  exampleInput: { question: 'How do I create a merge request?' },
  async plan({ input }) {
    return {
      kind: 'prompt',
      variables: {
        categories: Object.entries(chatQuestionCategories)
          .map(([category, covers]) => `- ${category}: ${covers}`)
          .join('\n'),
        question: quoteData(input.question, 'question'),
      },
    };
  },
});
