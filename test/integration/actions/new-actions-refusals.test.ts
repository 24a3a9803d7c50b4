import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../../seeds/dev-world.ts';
import type { DatabaseHandle } from '../../../src/db/client.ts';
import { aiActionQueueName, bullPrefix } from '../../../src/workers/queues.ts';
import { graphqlRequest } from '../../helpers/graphql-clients.ts';
import { createRedisNamespace, testRedisUrl } from '../../helpers/redis-namespace.ts';
import { createSeededEmbeddedDatabase } from '../../helpers/test-database.ts';
import { startTestRuntime, type TestRuntime } from '../../helpers/test-runtime.ts';

const namespace = createRedisNamespace();
let database: DatabaseHandle;
let runtime: TestRuntime;
let queue: Queue;

const aiAction = /* GraphQL */ `
  mutation ($input: AiActionInput!) { aiAction(input: $input) { requestId errors } }
`;
const developer = devToken('developer');

async function queuedJobs(): Promise<number> {
  const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized');
  return Object.values(counts).reduce((total, count) => total + count, 0);
}

async function expectRefused(input: Record<string, unknown>, message: string | RegExp) {
  const jobsBefore = await queuedJobs();
  const response = await graphqlRequest<{ aiAction: unknown }>(runtime.baseUrl, aiAction, {
    token: developer,
    variables: { input },
  });
  expect(response.body.data?.aiAction ?? null).toBeNull();
  expect(response.body.errors?.[0]?.message).toMatch(message);
  expect(await queuedJobs()).toBe(jobsBefore);
}

beforeAll(async () => {
  database = await createSeededEmbeddedDatabase();
  // The API alone: nothing consumes the queue, so an accepted request would stay countable.
  runtime = await startTestRuntime({ role: 'api', database, prefix: namespace.prefix });
  queue = new Queue(aiActionQueueName, { connection: new Redis(testRedisUrl), prefix: bullPrefix(namespace.prefix) });
}, 60_000);

afterAll(async () => {
  await queue.close();
  await runtime.close();
  await database.close();
  await namespace.cleanup();
});

describe('the new AI actions refuse the wrong resource type with a clear error and enqueue nothing', () => {
  it('accepts a valid request (the control: the job counter can move)', async () => {
    const before = await queuedJobs();
    const response = await graphqlRequest<{ aiAction: { requestId: string; errors: string[] } }>(
      runtime.baseUrl,
      aiAction,
      {
        token: developer,
        variables: { input: { generateCommitMessage: { resourceId: 'gid://gitlab/MergeRequest/1' } } },
      },
    );
    expect(response.body.data?.aiAction.errors).toEqual([]);
    expect(await queuedJobs()).toBe(before + 1);
    const job = await queue.getJob(response.body.data?.aiAction.requestId ?? '');
    expect(job?.name).toBe('generate_commit_message');
  });

  it.each([
    [
      'generateDescription',
      { resourceId: 'gid://gitlab/Vulnerability/1', content: 'notes' },
      'generateDescription cannot act on a Vulnerability; it accepts Issue, MergeRequest, Epic, Project',
    ],
    [
      'generateCommitMessage',
      { resourceId: 'gid://gitlab/Issue/1' },
      'generateCommitMessage cannot act on a Issue; it accepts MergeRequest',
    ],
    [
      'summarizeReview',
      { resourceId: 'gid://gitlab/Issue/1' },
      'summarizeReview cannot act on a Issue; it accepts MergeRequest',
    ],
    [
      'summarizeNewMergeRequest',
      { resourceId: 'gid://gitlab/MergeRequest/1', sourceBranch: 'a', targetBranch: 'main' },
      'summarizeNewMergeRequest cannot act on a MergeRequest; it accepts Project',
    ],
    [
      'fillInMergeRequestTemplate',
      { resourceId: 'gid://gitlab/Issue/1', title: 't', sourceBranch: 'a', targetBranch: 'main', content: '## x' },
      'fillInMergeRequestTemplate cannot act on a Issue; it accepts Project',
    ],
    [
      'explainVulnerability',
      { resourceId: 'gid://gitlab/MergeRequest/1', includeSourceCode: true },
      'explainVulnerability cannot act on a MergeRequest; it accepts Vulnerability',
    ],
    [
      'resolveVulnerability',
      { resourceId: 'gid://gitlab/Project/1' },
      'resolveVulnerability cannot act on a Project; it accepts Vulnerability',
    ],
    [
      'analyzeCiJobFailure',
      { resourceId: 'gid://gitlab/MergeRequest/1' },
      'analyzeCiJobFailure cannot act on a MergeRequest; it accepts Ci::Build',
    ],
    [
      'rewriteDescription',
      { resourceId: 'gid://gitlab/Epic/1', content: 'Shorter.' },
      'rewriteDescription cannot act on a Epic; it accepts Issue',
    ],
  ])('%s', async (actionKey, argumentsOfAction, message) => {
    await expectRefused({ [actionKey]: argumentsOfAction }, message);
  });
});

describe('the new AI actions check their arguments before enqueuing', () => {
  it('a blank rewrite prompt', async () => {
    await expectRefused(
      { rewriteDescription: { resourceId: 'gid://gitlab/Issue/1', content: '  ' } },
      "rewriteDescription.content can't be blank",
    );
  });

  it('a malformed source project id', async () => {
    await expectRefused(
      {
        summarizeNewMergeRequest: {
          resourceId: 'gid://gitlab/Project/1',
          sourceProjectId: 'gid://gitlab/Issue/1',
          sourceBranch: 'fix-cable-reauth',
          targetBranch: 'main',
        },
      },
      'summarizeNewMergeRequest.sourceProjectId is not a valid project id',
    );
  });

  it('a missing target branch is a GraphQL validation error', async () => {
    await expectRefused(
      {
        fillInMergeRequestTemplate: {
          resourceId: 'gid://gitlab/Project/1',
          title: 't',
          sourceBranch: 'a',
          content: 'c',
        },
      },
      /targetBranch/,
    );
  });

  it('categorizeQuestion is internal: not a key of AiActionInput', async () => {
    await expectRefused(
      { categorizeQuestion: { question: 'How do I create a merge request?' } },
      /categorizeQuestion.*is not defined by type "AiActionInput"/,
    );
  });

  it('categorizeQuestion is not a value of the AiAction subscription enum either', async () => {
    const response = await graphqlRequest(runtime.baseUrl, '{ __type(name: "AiAction") { enumValues { name } } }', {
      token: developer,
    });
    const values = (response.body.data as { __type: { enumValues: { name: string }[] } }).__type.enumValues;
    expect(values.map((value) => value.name)).toContain('ANALYZE_CI_JOB_FAILURE');
    expect(values.map((value) => value.name)).not.toContain('CATEGORIZE_QUESTION');
  });
});
