import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../seeds/dev-world.ts';
import { refusalMessages } from '../../src/auth/ai-authorization.ts';
import type { DatabaseHandle } from '../../src/db/client.ts';
import { resourceNotAvailableMessage } from '../../src/errors.ts';
import { graphqlRequest } from '../helpers/graphql-clients.ts';
import { createRedisNamespace } from '../helpers/redis-namespace.ts';
import { createSeededEmbeddedDatabase } from '../helpers/test-database.ts';
import { startTestRuntime, type TestRuntime } from '../helpers/test-runtime.ts';

const namespace = createRedisNamespace();
let database: DatabaseHandle;
let runtime: TestRuntime;

const explainCode = /* GraphQL */ `
  mutation { aiAction(input: { explainCode: { resourceId: "gid://gitlab/Project/1", messages: [{ role: "user", content: "x = 1" }] } }) { requestId errors } }
`;
const changeFlag = /* GraphQL */ `
  mutation ($name: String!, $change: FeatureFlagChange!, $actor: String) {
    featureFlagChange(name: $name, change: $change, actor: $actor) { name enabled gates }
  }
`;
const updateGroup = /* GraphQL */ `
  mutation ($groupId: NamespaceID!, $experiments: Boolean) {
    groupAiSettingsUpdate(groupId: $groupId, experimentFeaturesEnabled: $experiments) { groupId experimentFeaturesEnabled }
  }
`;

async function explainCodeRefusal(): Promise<string | undefined> {
  const response = await graphqlRequest(runtime.baseUrl, explainCode, { token: devToken('developer') });
  return response.body.errors?.[0]?.message;
}

beforeAll(async () => {
  database = await createSeededEmbeddedDatabase();
  runtime = await startTestRuntime({ role: 'api', database, prefix: namespace.prefix });
}, 60_000);

afterAll(async () => {
  await runtime.close();
  await database.close();
  await namespace.cleanup();
});

describe('feature flags over GraphQL', () => {
  it('lists flags for administrators only', async () => {
    const query = '{ featureFlags { name type enabled gates } }';
    const admin = await graphqlRequest<{ featureFlags: { name: string; type: string }[] }>(runtime.baseUrl, query, {
      token: devToken('root'),
    });
    expect(admin.body.data?.featureFlags).toContainEqual({
      name: 'ai_global_switch',
      type: 'ops',
      enabled: true,
      gates: [],
    });
    const developer = await graphqlRequest(runtime.baseUrl, query, { token: devToken('developer') });
    expect(developer.body.errors?.[0]?.message).toBe(resourceNotAvailableMessage);
  });

  it('turns an action off and on for a group, effective at once', async () => {
    expect(await explainCodeRefusal()).toBeUndefined();
    const disabled = await graphqlRequest<{ featureFlagChange: { enabled: boolean } }>(runtime.baseUrl, changeFlag, {
      token: devToken('root'),
      variables: { name: 'explain_code', change: 'DISABLE' },
    });
    expect(disabled.body.data?.featureFlagChange).toEqual({ name: 'explain_code', enabled: false, gates: [] });
    expect(await explainCodeRefusal()).toBe(refusalMessages.featureFlag);
    const forGroup = await graphqlRequest<{ featureFlagChange: { gates: string[] } }>(runtime.baseUrl, changeFlag, {
      token: devToken('root'),
      variables: { name: 'explain_code', change: 'ENABLE', actor: 'gid://gitlab/Group/1' },
    });
    expect(forGroup.body.data?.featureFlagChange.gates).toEqual(['Group:1']);
    expect(await explainCodeRefusal()).toBeUndefined();
    await graphqlRequest(runtime.baseUrl, changeFlag, {
      token: devToken('root'),
      variables: { name: 'explain_code', change: 'REMOVE' },
    });
  });

  it('refuses non-administrators and bad input', async () => {
    const developer = await graphqlRequest(runtime.baseUrl, changeFlag, {
      token: devToken('developer'),
      variables: { name: 'ai_global_switch', change: 'DISABLE' },
    });
    expect(developer.body.errors?.[0]?.message).toBe(resourceNotAvailableMessage);
    const badName = await graphqlRequest(runtime.baseUrl, changeFlag, {
      token: devToken('root'),
      variables: { name: 'Bad Name!', change: 'ENABLE' },
    });
    expect(badName.body.errors?.[0]?.message).toBe('Invalid feature flag name "Bad Name!"');
  });
});

describe('group AI settings', () => {
  it('lets the owner switch experiment features off, which stops experimental actions at once', async () => {
    const refused = await graphqlRequest(runtime.baseUrl, updateGroup, {
      token: devToken('developer'),
      variables: { groupId: 'gid://gitlab/Group/1', experiments: false },
    });
    expect(refused.body.errors?.[0]?.message).toBe(resourceNotAvailableMessage);

    const off = await graphqlRequest<{ groupAiSettingsUpdate: { experimentFeaturesEnabled: boolean } }>(
      runtime.baseUrl,
      updateGroup,
      { token: devToken('owner'), variables: { groupId: 'gid://gitlab/Group/1', experiments: false } },
    );
    expect(off.body.data?.groupAiSettingsUpdate).toEqual({
      groupId: 'gid://gitlab/Group/1',
      experimentFeaturesEnabled: false,
    });
    expect(await explainCodeRefusal()).toBe(refusalMessages.notPermitted);

    await graphqlRequest(runtime.baseUrl, updateGroup, {
      token: devToken('owner'),
      variables: { groupId: 'gid://gitlab/Group/1', experiments: true },
    });
    expect(await explainCodeRefusal()).toBeUndefined();
  });
});
