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

const categoryAnswer = z.object({
  category: z.enum(Object.keys(chatQuestionCategories) as [keyof typeof chatQuestionCategories]),
  detailed_category: z.string().min(1),
  language: z.string().optional(),
});

/** The model's JSON answer (the first `{…}` in it), or undefined when it is not a valid category. */
export function parseQuestionCategory(answer: string): z.infer<typeof categoryAnswer> | undefined {
  const json = /\{[\s\S]*\}/.exec(answer)?.[0];
  if (!json) return undefined;
  try {
    const parsed = categoryAnswer.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

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
  /** GitLab's `ai_question_category` event (reference §5.1): the category is the label, the request the property. */
  async consumeAnswer(answer, context) {
    const category = parseQuestionCategory(answer);
    if (!category) {
      context.logger.warn({ requestId: context.requestId }, 'question category answer was not valid JSON; not tracked');
      return;
    }
    context.tracker?.track({
      category: 'Gitlab::Llm::Completions::CategorizeQuestion',
      action: 'ai_question_category',
      label: category.category,
      property: context.requestId,
      userId: context.userId,
      client: context.client,
    });
  },
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
