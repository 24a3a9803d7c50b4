import { analyzeCiJobFailureAction } from './analyze-ci-job-failure.ts';
import { categorizeQuestionAction } from './categorize-question.ts';
import { chatAction } from './chat.ts';
import type { AiActionDefinition } from './define-ai-action.ts';
import { explainCodeAction } from './explain-code.ts';
import { explainVulnerabilityAction } from './explain-vulnerability.ts';
import { fillInMergeRequestTemplateAction } from './fill-in-merge-request-template.ts';
import { generateCommitMessageAction } from './generate-commit-message.ts';
import { generateDescriptionAction } from './generate-description.ts';
import { resolveVulnerabilityAction } from './resolve-vulnerability.ts';
import { rewriteDescriptionAction } from './rewrite-description.ts';
import { summarizeCommentsAction } from './summarize-comments.ts';
import { summarizeNewMergeRequestAction } from './summarize-new-merge-request.ts';
import { summarizeReviewAction } from './summarize-review.ts';

/** Every AI action, one line each. An action that is not listed here does not exist anywhere. */
export const aiActionCatalogue = [
  chatAction,
  explainCodeAction,
  summarizeCommentsAction,
  generateDescriptionAction,
  generateCommitMessageAction,
  summarizeReviewAction,
  summarizeNewMergeRequestAction,
  fillInMergeRequestTemplateAction,
  explainVulnerabilityAction,
  resolveVulnerabilityAction,
  analyzeCiJobFailureAction,
  rewriteDescriptionAction,
  categorizeQuestionAction,
] as const;

export type AiActionName = (typeof aiActionCatalogue)[number]['name'];

const byName = new Map<string, AiActionDefinition>(
  aiActionCatalogue.map((action) => [action.name, action as unknown as AiActionDefinition]),
);
const byActionName = new Map<string, AiActionDefinition>(
  aiActionCatalogue.map((action) => [action.actionName, action as unknown as AiActionDefinition]),
);

export function findAiAction(name: string): AiActionDefinition | undefined {
  return byName.get(name);
}

/** Looks an action up by GitLab's snake_case `ai_action` (job names and subscription keys). */
export function findAiActionByActionName(actionName: string): AiActionDefinition | undefined {
  return byActionName.get(actionName);
}
