import type { GitlabDuoWorld } from '../../seeds/gitlab-duo-world.ts';
import { toGlobalId } from '../gid.ts';
import { caseToLine, type EvalCase } from './dataset.ts';

/** The host of resource URLs in questions; any host works, the chat tools read the path. */
export const evaluationBaseUrl = 'https://gitlab.example.com';

/**
 * A question template in GitLab's QA style: `%<url>s` becomes the resource's URL and `%<ref>s` its reference
 * (`gitlab-duo/tanuki-shop#1`); a template without either is asked while the user looks at the resource.
 */
interface QuestionTemplate {
  key: string;
  text: string;
  /** Which fact of the resource answers it (`author` is derived from the author's name). */
  fact: string;
}

const issueTemplates: QuestionTemplate[] = [
  { key: 'summarize-this', text: 'Summarize this issue', fact: 'summary' },
  { key: 'summarize-url', text: 'Summarize the issue %<url>s', fact: 'summary' },
  { key: 'status', text: 'What is the status of %<url>s?', fact: 'status' },
  { key: 'author', text: 'Who is the author of %<ref>s?', fact: 'author' },
  { key: 'main-points', text: 'What are the main points discussed in %<ref>s?', fact: 'main_points' },
  { key: 'action-items', text: 'Can you list the action items in %<ref>s?', fact: 'action_items' },
];
const epicTemplates: QuestionTemplate[] = [
  { key: 'summarize-this', text: 'Summarize this epic', fact: 'summary' },
  { key: 'status', text: 'What is the status of %<url>s?', fact: 'status' },
  { key: 'author', text: 'Who is the author of %<ref>s?', fact: 'author' },
  { key: 'main-points', text: 'What are the main points discussed in %<ref>s?', fact: 'main_points' },
  { key: 'action-items', text: 'Can you list the action items in %<ref>s?', fact: 'action_items' },
];
const mergeRequestTemplates: QuestionTemplate[] = [
  { key: 'summarize-this', text: 'Summarize this merge request', fact: 'summary' },
  { key: 'status', text: 'What is the status of %<url>s?', fact: 'status' },
  { key: 'changes', text: 'What does %<ref>s change in the code?', fact: 'changes' },
  { key: 'author', text: 'Who is the author of %<ref>s?', fact: 'author' },
  { key: 'review', text: 'What did the reviewers ask for in %<ref>s?', fact: 'review_feedback' },
];
const buildTemplates: QuestionTemplate[] = [
  { key: 'failure-this', text: 'Why did this job fail?', fact: 'failure' },
  { key: 'fix-url', text: 'How do I fix the failure in %<url>s?', fact: 'fix' },
];

interface TemplatedResource {
  kind: string;
  id: number;
  gid: string;
  url: string;
  ref: string;
  facts: Record<string, string>;
  tool: string;
}

function expand(templates: QuestionTemplate[], resource: TemplatedResource): EvalCase[] {
  return templates.map((template) => {
    const fact = resource.facts[template.fact];
    if (fact === undefined) throw new Error(`${resource.kind} ${resource.id} has no fact ${template.fact}`);
    const current = !template.text.includes('%<');
    return {
      id: `${resource.kind}-${resource.id}-${template.key}`,
      template: template.text,
      question: template.text.replaceAll('%<url>s', resource.url).replaceAll('%<ref>s', resource.ref),
      resourceId: current ? resource.gid : null,
      referenceAnswer: fact,
      expectedTools: [resource.tool],
      expectedSources: null,
    };
  });
}

/** Datasets built from the evaluation world: each template × each resource, with the resource's facts as reference. */
export function resourceDatasets(world: GitlabDuoWorld, baseUrl = evaluationBaseUrl): Record<string, EvalCase[]> {
  const author = (username: string) => {
    const user = world.users.find((candidate) => candidate.username === username);
    return `${user?.name} (@${username})`;
  };
  const group = world.group.path;
  return {
    issues: world.issues.flatMap((issue) =>
      expand(issueTemplates, {
        kind: 'issue',
        id: issue.id,
        gid: toGlobalId('Issue', issue.id),
        url: `${baseUrl}/${issue.project}/-/issues/${issue.iid}`,
        ref: `${issue.project}#${issue.iid}`,
        facts: { ...issue.facts, author: `The author is ${author(issue.author)}.` },
        tool: 'IssueReader',
      }),
    ),
    epics: world.epics.flatMap((epic) =>
      expand(epicTemplates, {
        kind: 'epic',
        id: epic.id,
        gid: toGlobalId('Epic', epic.id),
        url: `${baseUrl}/groups/${group}/-/epics/${epic.iid}`,
        ref: `${group}&${epic.iid}`,
        facts: { ...epic.facts, author: `The author is ${author(epic.author)}.` },
        tool: 'EpicReader',
      }),
    ),
    'merge-requests': world.merge_requests.flatMap((mergeRequest) =>
      expand(mergeRequestTemplates, {
        kind: 'merge-request',
        id: mergeRequest.id,
        gid: toGlobalId('MergeRequest', mergeRequest.id),
        url: `${baseUrl}/${mergeRequest.project}/-/merge_requests/${mergeRequest.iid}`,
        ref: `${mergeRequest.project}!${mergeRequest.iid}`,
        facts: { ...mergeRequest.facts, author: `The author is ${author(mergeRequest.author)}.` },
        tool: 'MergeRequestReader',
      }),
    ),
    builds: world.builds.flatMap((build) =>
      expand(buildTemplates, {
        kind: 'build',
        id: build.id,
        gid: toGlobalId('Ci::Build', build.id),
        url: `${baseUrl}/${build.project}/-/jobs/${build.id}`,
        ref: `job ${build.id}`,
        facts: build.facts,
        tool: 'BuildReader',
      }),
    ),
  };
}

/**
 * The generated dataset files (`npm run eval:datasets`), by file name: one per resource kind, `smoke.jsonl`
 * (one case per kind plus one code task, for a quick run) and `all.jsonl` (everything, documentation included).
 * `code-tasks.jsonl` and `documentation.jsonl` are written by hand.
 */
export function generatedDatasetFiles(world: GitlabDuoWorld): Record<string, string> {
  const datasets = resourceDatasets(world);
  const jsonl = (lines: string[]) => `${lines.join('\n')}\n`;
  const files: Record<string, string> = {};
  for (const [name, cases] of Object.entries(datasets)) files[`${name}.jsonl`] = jsonl(cases.map(caseToLine));
  const smokeIds = [
    'issue-1000-summarize-this',
    'epic-1000-status',
    'merge-request-1000-changes',
    'build-1000-failure-this',
  ];
  const smoke = Object.values(datasets)
    .flat()
    .filter((evalCase) => smokeIds.includes(evalCase.id));
  files['smoke.jsonl'] = jsonl([...smoke.map(caseToLine), JSON.stringify({ include: 'code-tasks.jsonl', limit: 1 })]);
  files['all.jsonl'] = jsonl(
    [...Object.keys(datasets).map((name) => `${name}.jsonl`), 'code-tasks.jsonl', 'documentation.jsonl'].map((file) =>
      JSON.stringify({ include: file }),
    ),
  );
  return files;
}
