import { z } from 'zod';
import { defineAiAction } from './define-ai-action.ts';
import { quoteData, tailWithinBudget } from './describe-resource.ts';
import { globalIdField } from './input-fields.ts';

/**
 * Budget for the job log: its last 40,000 characters. Why a tail: a job's failure (the failing command,
 * test summary, `ERROR: Job failed`) is at the end of its log. Why 40,000: GitLab's first version sent
 * 16,384 characters (8,192 tokens counted at 2 characters a token, because logs full of paths, hashes and
 * escape codes tokenize badly); that is about 180 lines, too few for a test runner's failure listing with
 * its stack traces. 40,000 characters, about 450 lines of 90, holds the listing and the commands before it,
 * and even at 2 characters a token (20,000 tokens) keeps this one-click action fast and cheap.
 */
export const maxJobLogCharacters = 40_000;

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escape sequences start with ESC.
const ansiEscape = /\u001b\[[0-9;?]*[A-Za-z]/g;
/** GitLab's collapsible section markers: `section_start:<time>:<name>[options]\r`. */
const sectionMarker = /section_(?:start|end):\d+:[A-Za-z0-9_.-]+(?:\[[^\]\r\n]*\])?\r?/g;

/** A log as a reader sees it: without colour codes, section markers or carriage-return overwrites. */
export function cleanJobLog(log: string): string {
  return log
    .replace(sectionMarker, '')
    .replace(ansiEscape, '')
    .replace(/\r\n/g, '\n')
    .split('\n')
    .map((line) => line.slice(line.lastIndexOf('\r') + 1))
    .join('\n');
}

export const analyzeCiJobFailureAction = defineAiAction({
  name: 'analyzeCiJobFailure',
  actionName: 'analyze_ci_job_failure',
  description: 'Find the root cause of a failed CI job from the end of its log, and suggest a fix.',
  maturity: 'experimental',
  graphqlInputName: 'AiAnalyzeCiJobFailureInput',
  input: z.object({ resourceId: globalIdField('AiModelID') }),
  resourceTypes: ['Ci::Build'],
  resourceRequired: true,
  selfManaged: false,
  internal: false,
  unitPrimitive: 'troubleshoot_job',
  featureFlag: 'analyze_ci_job_failure',
  rateLimitClass: 'ai_action',
  promptVariables: ['job', 'log'],
  storesInChatHistory: false,
  exampleInput: { resourceId: 'gid://gitlab/Ci::Build/1' },
  async plan({ resource }) {
    if (resource?.type !== 'Ci::Build') {
      return { kind: 'answer', content: 'I am sorry, I am unable to find what you are looking for.' };
    }
    const job = resource.record;
    if (job.status !== 'failed') {
      return {
        kind: 'answer',
        content: `Job ${job.name} has not failed (its status is ${job.status}): there is no failure to analyze.`,
      };
    }
    const log = cleanJobLog(job.log).trim();
    if (log === '') return { kind: 'answer', content: `Job ${job.name} has no log to analyze.` };
    return {
      kind: 'prompt',
      variables: {
        job: quoteData(`Job ${job.name}, stage ${job.stage}, on ${job.ref} in ${resource.project.fullPath}`, 'job'),
        log: quoteData(tailWithinBudget(log, maxJobLogCharacters), 'log'),
      },
    };
  },
});
