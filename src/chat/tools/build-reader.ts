import { tailWithinBudget } from '../../actions/describe-resource.ts';
import { type ChatTool, notFound } from './chat-tool.ts';
import { quoteResource } from './quote-observation.ts';
import { readReferencedResource } from './read-referenced-resource.ts';

/** The end of a job log is where failures are; keep its last lines. */
const maxLogCharacters = 8_000;

export const buildReader: ChatTool = {
  name: 'BuildReader',
  humanName: 'Build Reader',
  resourceName: 'CI job',
  description:
    'Gets the details and the end of the log of the current CI job (also referenced as this build or that job) the user sees, or of a job identified by its id or URL. Use it for questions about why a job or pipeline failed. Action Input for this tool should be the original question or the job identifier.',
  example: [
    'Question: Why did job 4211 fail?',
    'Thought: The question is about a CI job, so you need to use the "BuildReader" tool to read its log.',
    'Action: BuildReader',
    'Action Input: Why did job 4211 fail?',
  ].join('\n'),
  async run(input, context) {
    const build = await readReferencedResource(context, 'job', input);
    if (!build) return notFound();
    return {
      kind: 'observation',
      content: quoteResource('ci_job', {
        id: build.record.id,
        project: build.project.fullPath,
        name: build.record.name,
        stage: build.record.stage,
        status: build.record.status,
        ref: build.record.ref,
        log_tail: tailWithinBudget(build.record.log, maxLogCharacters),
      }),
    };
  },
};
