import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { digestToken } from '../src/auth/tokens.ts';
import type { Database } from '../src/db/client.ts';
import * as schema from '../src/db/schema/index.ts';
import { accessLevels } from '../src/db/schema/members.ts';
import { toGlobalId } from '../src/gid.ts';
import { lastReservedId, moveIdentitySequencesPast } from './identity-sequences.ts';

/**
 * The deterministic development world: fixed ids, fixed tokens. Every fixture user's token is
 * `glpat-dev-<username>` — known on purpose, which is why seeding refuses to run in production.
 */
export const devUsers = [
  { id: 1, username: 'root', name: 'Administrator', admin: true },
  { id: 2, username: 'owner', name: 'Olivia Owner', admin: false },
  { id: 3, username: 'developer', name: 'Devon Developer', admin: false },
  { id: 4, username: 'guest', name: 'Gail Guest', admin: false },
  { id: 5, username: 'outsider', name: 'Nora Nonmember', admin: false },
  { id: 6, username: 'premium-dev', name: 'Pat Premium', admin: false },
  { id: 7, username: 'expired', name: 'Eddie Expired', admin: false },
] as const;

export function devToken(username: string): string {
  return `glpat-dev-${username}`;
}

const longThread = [
  'I can reproduce this on Firefox 128: the pipeline page spins forever after a force push.',
  'Same on Chrome. It looks like the websocket for pipeline status never reconnects.',
  'The backend logs show `ActionCable::Connection::Authorization::UnauthorizedError` right after the push.',
  'I think the token used by the frontend is rotated on force push; the cable keeps the old one.',
  'Workaround: reload the page. Not great for long-running pipelines.',
  'Proposal: have the frontend re-authenticate the cable on 401 instead of giving up.',
  'We could also keep the old token valid for 60 seconds after rotation.',
  'Security would prefer not to extend token lifetime. Re-auth on the client is cleaner.',
  'Agreed. I will open an MR for the client side re-authentication.',
  'MR is up: it retries the subscription with a fresh token, up to 3 times with backoff.',
  'Reviewed; one concern about retry storms when the API is actually down.',
  'Added jitter and a cap. Also added a metric for re-auth attempts.',
];

export interface DevWorldManifest {
  users: { username: string; gid: string; token: string; role: string }[];
  resources: Record<string, string>;
}

/** Idempotent: rows are upserted by id, so running it twice leaves the same world. */
export async function seedDevWorld(db: Database): Promise<DevWorldManifest> {
  if (process.env.NODE_ENV === 'production') {
    throw new Error(
      'Refusing to seed the development world when NODE_ENV=production: it creates users with known tokens.',
    );
  }
  const tokenExpiry = '2099-01-01';
  await db.transaction(async (tx) => {
    await tx
      .insert(schema.users)
      .values(devUsers.map((user) => ({ ...user, email: `${user.username}@example.com` })))
      .onConflictDoNothing();
    await tx
      .insert(schema.personalAccessTokens)
      .values(
        devUsers.map((user) => ({
          id: user.id,
          userId: user.id,
          name: 'development',
          tokenDigest: digestToken(devToken(user.username)),
          scopes: ['api'],
          // The `expired` user's token expired long ago: for tests of expiry.
          expiresAt: user.username === 'expired' ? '2020-01-01' : tokenExpiry,
        })),
      )
      .onConflictDoNothing();
    await tx
      .insert(schema.personalAccessTokens)
      .values([
        {
          id: 101,
          userId: 3,
          name: 'read only',
          tokenDigest: digestToken('glpat-dev-developer-read'),
          scopes: ['read_api'],
          expiresAt: tokenExpiry,
        },
        {
          id: 102,
          userId: 3,
          name: 'ai only',
          tokenDigest: digestToken('glpat-dev-developer-ai'),
          scopes: ['ai_features'],
          expiresAt: tokenExpiry,
        },
      ])
      .onConflictDoNothing();

    await tx
      .insert(schema.groups)
      .values([
        {
          id: 1,
          name: 'Ultimate Org',
          fullPath: 'ultimate-org',
          visibility: 'private',
          plan: 'ultimate',
          experimentFeaturesEnabled: true,
        },
        { id: 2, name: 'Premium Org', fullPath: 'premium-org', visibility: 'private', plan: 'premium' },
        { id: 3, name: 'Free Org', fullPath: 'free-org', visibility: 'public', plan: 'free' },
        // Duo switched off for this subgroup: its projects may not use AI.
        {
          id: 4,
          name: 'Platform',
          fullPath: 'ultimate-org/platform',
          parentId: 1,
          visibility: 'private',
          plan: 'ultimate',
          duoFeaturesEnabled: false,
        },
        // Ultimate with Duo Enterprise but without experiment and beta features.
        { id: 5, name: 'Careful Corp', fullPath: 'careful-corp', visibility: 'private', plan: 'ultimate' },
      ])
      .onConflictDoNothing();
    await tx
      .insert(schema.groupAddOns)
      .values([
        { id: 1, groupId: 1, addOn: 'duo_enterprise', seats: 10, expiresOn: tokenExpiry },
        { id: 2, groupId: 5, addOn: 'duo_enterprise', seats: 5, expiresOn: tokenExpiry },
      ])
      .onConflictDoNothing();
    await tx
      .insert(schema.addOnSeatAssignments)
      .values([...[2, 3, 4].map((userId) => ({ groupAddOnId: 1, userId })), { groupAddOnId: 2, userId: 3 }])
      .onConflictDoNothing();
    await tx
      .insert(schema.projects)
      .values([
        { id: 1, groupId: 1, name: 'Duo App', fullPath: 'ultimate-org/duo-app', visibility: 'private' },
        { id: 2, groupId: 4, name: 'Runner', fullPath: 'ultimate-org/platform/runner', visibility: 'private' },
        { id: 3, groupId: 2, name: 'Shop', fullPath: 'premium-org/shop', visibility: 'private' },
        { id: 4, groupId: 3, name: 'Website', fullPath: 'free-org/website', visibility: 'public' },
        { id: 5, groupId: 5, name: 'Ledger', fullPath: 'careful-corp/ledger', visibility: 'private' },
      ])
      .onConflictDoNothing();
    await tx
      .insert(schema.members)
      .values([
        { id: 1, userId: 2, sourceType: 'Group', sourceId: 1, accessLevel: accessLevels.owner },
        { id: 2, userId: 3, sourceType: 'Group', sourceId: 1, accessLevel: accessLevels.developer },
        { id: 3, userId: 4, sourceType: 'Group', sourceId: 1, accessLevel: accessLevels.guest },
        { id: 4, userId: 6, sourceType: 'Group', sourceId: 2, accessLevel: accessLevels.developer },
        { id: 5, userId: 2, sourceType: 'Group', sourceId: 3, accessLevel: accessLevels.owner },
        { id: 6, userId: 7, sourceType: 'Group', sourceId: 1, accessLevel: accessLevels.developer },
        { id: 7, userId: 3, sourceType: 'Group', sourceId: 5, accessLevel: accessLevels.developer },
      ])
      .onConflictDoNothing();

    await tx
      .insert(schema.issues)
      .values([
        {
          id: 1,
          projectId: 1,
          iid: 1,
          title: 'Pipeline page stops updating after a force push',
          description: 'After force-pushing to a branch, the pipeline page no longer updates until reloaded.',
          authorId: 3,
        },
        {
          id: 2,
          projectId: 1,
          iid: 2,
          title: 'Leaked credentials in CI variables export',
          description: 'The export of CI variables includes masked values. Do not discuss publicly.',
          confidential: true,
          authorId: 2,
        },
        {
          id: 3,
          projectId: 1,
          iid: 3,
          title: 'Add dark mode to the settings page',
          description: 'Users ask for a dark theme.',
          authorId: 4,
        },
        {
          id: 4,
          projectId: 3,
          iid: 1,
          title: 'Checkout button misaligned on mobile',
          description: 'On 360px screens the button overflows.',
          authorId: 6,
        },
        {
          id: 5,
          projectId: 4,
          iid: 1,
          title: 'Typo on the landing page',
          description: 'It says "Wellcome".',
          authorId: 2,
        },
        {
          id: 6,
          projectId: 5,
          iid: 1,
          title: 'Reconcile ledger totals',
          description: 'Monthly totals drift by a cent.',
          authorId: 3,
        },
        {
          id: 7,
          projectId: 2,
          iid: 1,
          title: 'Runner registration fails',
          description: 'Registration returns 500.',
          authorId: 3,
        },
      ])
      .onConflictDoNothing();
    await tx
      .insert(schema.notes)
      .values([
        ...longThread.map((note, index) => ({
          id: index + 1,
          noteableType: 'Issue' as const,
          noteableId: 1,
          authorId: index % 2 === 0 ? 3 : 2,
          note,
          createdAt: new Date(Date.UTC(2026, 0, 1, 9, index)),
        })),
        {
          id: 50,
          noteableType: 'Issue' as const,
          noteableId: 1,
          authorId: 3,
          note: 'changed the description',
          system: true,
          createdAt: new Date(Date.UTC(2026, 0, 1, 10)),
        },
        {
          id: 51,
          noteableType: 'Epic' as const,
          noteableId: 1,
          authorId: 2,
          note: 'Let us ship the first iteration this quarter.',
          createdAt: new Date(Date.UTC(2026, 0, 2)),
        },
        // Review comments on MR !1, for summarize_review.
        {
          id: 60,
          noteableType: 'MergeRequest' as const,
          noteableId: 1,
          authorId: 2,
          note: 'Please cap the total retry time: three attempts with backoff can keep the page spinning for 30 seconds.',
          createdAt: new Date(Date.UTC(2026, 0, 3, 9)),
        },
        {
          id: 61,
          noteableType: 'MergeRequest' as const,
          noteableId: 1,
          authorId: 2,
          note: 'Does refreshToken() run when the user has logged out in another tab? A spec for that case would help.',
          createdAt: new Date(Date.UTC(2026, 0, 3, 9, 5)),
        },
        {
          id: 62,
          noteableType: 'MergeRequest' as const,
          noteableId: 1,
          authorId: 3,
          note: 'Good point, I will add the spec. The jitter already keeps the retries from stampeding the API.',
          createdAt: new Date(Date.UTC(2026, 0, 3, 10)),
        },
        {
          id: 63,
          noteableType: 'MergeRequest' as const,
          noteableId: 1,
          authorId: 2,
          note: 'approved this merge request',
          system: true,
          createdAt: new Date(Date.UTC(2026, 0, 3, 11)),
        },
      ])
      .onConflictDoNothing();
    await tx
      .insert(schema.mergeRequests)
      .values([
        {
          id: 1,
          projectId: 1,
          iid: 1,
          title: 'Re-authenticate the pipeline cable after a 401',
          description: 'Closes #1. Retries the subscription with a fresh token, up to 3 times, with jitter.',
          sourceBranch: 'fix-cable-reauth',
          targetBranch: 'main',
          authorId: 3,
          diff: [
            'diff --git a/app/assets/javascripts/pipelines/cable.js b/app/assets/javascripts/pipelines/cable.js',
            '--- a/app/assets/javascripts/pipelines/cable.js',
            '+++ b/app/assets/javascripts/pipelines/cable.js',
            '@@ -10,6 +10,14 @@ export function subscribe(pipelineId) {',
            '   const subscription = consumer.subscriptions.create({ channel: "PipelineChannel", pipelineId }, {',
            '-    rejected() { showError(); },',
            '+    async rejected() {',
            '+      for (let attempt = 1; attempt <= 3; attempt += 1) {',
            '+        await sleep(backoffWithJitter(attempt));',
            '+        if (await refreshToken()) return subscribe(pipelineId);',
            '+      }',
            '+      showError();',
            '+    },',
            '   });',
          ].join('\n'),
          commits: [
            {
              sha: '3f1c2a9d8e7b6a5c4d3e2f1a0b9c8d7e6f5a4b3c',
              title: 'Retry cable subscription on 401',
              message: 'Retry cable subscription on 401\n\nUp to 3 attempts.',
            },
            {
              sha: '9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b',
              title: 'Add jitter to cable retries',
              message: 'Add jitter to cable retries',
            },
          ],
        },
      ])
      .onConflictDoNothing();
    await tx
      .insert(schema.epics)
      .values([
        {
          id: 1,
          groupId: 1,
          iid: 1,
          title: 'Reliable real-time pipeline updates',
          description: 'Make every real-time view survive token rotation.',
          authorId: 2,
        },
      ])
      .onConflictDoNothing();
    await tx
      .insert(schema.ciBuilds)
      .values([
        {
          id: 1,
          projectId: 1,
          name: 'rspec 1/2',
          stage: 'test',
          status: 'failed',
          ref: 'fix-cable-reauth',
          userId: 3,
          log: [
            '$ bundle exec rspec spec/channels',
            'Failures:',
            '  1) PipelineChannel rejects an expired token',
            '     Failure/Error: expect(subscription).to be_rejected',
            '       expected `subscription.rejected?` to be truthy, got false',
            '     # ./spec/channels/pipeline_channel_spec.rb:42',
            'Finished in 12.3 seconds',
            '48 examples, 1 failure',
            'ERROR: Job failed: exit code 1',
          ].join('\n'),
        },
      ])
      .onConflictDoNothing();
    await tx
      .insert(schema.vulnerabilities)
      .values([
        {
          id: 1,
          projectId: 1,
          title: 'SQL injection in search',
          description: 'User input is interpolated into a SQL string.',
          severity: 'high',
          reportType: 'sast',
          location: { file: 'app/models/search.rb', startLine: 12, snippet: 'where("title LIKE \'%#{params[:q]}%\'")' },
          identifiers: [
            { type: 'cwe', name: 'CWE-89', value: '89', url: 'https://cwe.mitre.org/data/definitions/89.html' },
          ],
        },
      ])
      .onConflictDoNothing();
    await tx
      .insert(schema.featureFlags)
      .values([
        { name: 'ai_global_switch', type: 'ops', enabled: true },
        { name: 'ai_duo_chat_switch', type: 'ops', enabled: true },
        { name: 'expanded_ai_logging', type: 'development', enabled: false },
        { name: 'ai_experimentation_api', type: 'development', enabled: false },
      ])
      .onConflictDoNothing();

    // Explicit ids leave identity sequences behind: move them past every reserved id (never backwards).
    await moveIdentitySequencesPast(
      tx,
      [
        'users',
        'personal_access_tokens',
        'groups',
        'group_add_ons',
        'projects',
        'members',
        'issues',
        'notes',
        'merge_requests',
        'epics',
        'ci_builds',
        'vulnerabilities',
      ],
      lastReservedId,
    );
  });

  const roles: Record<string, string> = {
    root: 'instance administrator',
    owner: 'owner of ultimate-org (Ultimate, Duo Enterprise seat) and free-org',
    developer: 'developer in ultimate-org (Duo Enterprise seat)',
    guest: 'guest in ultimate-org',
    outsider: 'member of nothing',
    'premium-dev': 'developer in premium-org (Premium, no Duo add-on)',
    expired: 'developer in ultimate-org whose token has expired',
  };
  return {
    users: devUsers.map((user) => ({
      username: user.username,
      gid: toGlobalId('User', user.id),
      token: devToken(user.username),
      role: roles[user.username] ?? '',
    })),
    resources: {
      ultimateGroup: toGlobalId('Group', 1),
      premiumGroup: toGlobalId('Group', 2),
      freeGroup: toGlobalId('Group', 3),
      ultimateSubgroup: toGlobalId('Group', 4),
      ultimateWithoutExperiments: toGlobalId('Group', 5),
      ultimateProject: toGlobalId('Project', 1),
      ultimateSubgroupProject: toGlobalId('Project', 2),
      premiumProject: toGlobalId('Project', 3),
      projectWithoutExperiments: toGlobalId('Project', 5),
      freePublicProject: toGlobalId('Project', 4),
      issueWithLongThread: toGlobalId('Issue', 1),
      confidentialIssue: toGlobalId('Issue', 2),
      issueWithoutComments: toGlobalId('Issue', 3),
      premiumIssue: toGlobalId('Issue', 4),
      publicIssue: toGlobalId('Issue', 5),
      issueWithoutExperiments: toGlobalId('Issue', 6),
      issueWithDuoDisabled: toGlobalId('Issue', 7),
      mergeRequest: toGlobalId('MergeRequest', 1),
      epic: toGlobalId('Epic', 1),
      failedBuild: toGlobalId('Ci::Build', 1),
      vulnerability: toGlobalId('Vulnerability', 1),
    },
  };
}

export function writeManifest(dataDir: string, manifest: DevWorldManifest): string {
  mkdirSync(dataDir, { recursive: true });
  const file = path.resolve(dataDir, 'dev-world.json');
  writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`);
  return file;
}
