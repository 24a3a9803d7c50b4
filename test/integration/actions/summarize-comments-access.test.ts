import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { summarizeCommentsAction } from '../../../src/actions/summarize-comments.ts';
import { loadResource } from '../../../src/auth/resources.ts';
import type { AuthUser } from '../../../src/auth/tokens.ts';
import type { DatabaseHandle } from '../../../src/db/client.ts';
import { notes } from '../../../src/db/schema/notes.ts';
import { createSeededEmbeddedDatabase } from '../../helpers/test-database.ts';

let database: DatabaseHandle;
const guest: AuthUser = { id: 4, username: 'guest', admin: false };
const developer: AuthUser = { id: 3, username: 'developer', admin: false };

beforeAll(async () => {
  database = await createSeededEmbeddedDatabase();
  await database.db.insert(notes).values({
    noteableType: 'Issue',
    noteableId: 1,
    authorId: 2,
    note: 'INTERNAL: the fix ships Friday',
    internal: true,
  });
}, 60_000);

afterAll(async () => {
  await database.close();
});

async function commentsSeenBy(user: AuthUser): Promise<string> {
  const resource = (await loadResource(database.db, { type: 'Issue', id: 1 })) ?? null;
  const plan = await summarizeCommentsAction.plan({
    db: database.db,
    user,
    resource,
    input: { resourceId: 'gid://gitlab/Issue/1' },
    requestId: 'test',
    conversation: [],
  });
  return plan.kind === 'prompt' ? (plan.variables.comments ?? '') : '';
}

describe('summarizing comments', () => {
  it('leaves internal notes out of a guest’s summary and keeps them for a developer', async () => {
    const forGuest = await commentsSeenBy(guest);
    const forDeveloper = await commentsSeenBy(developer);
    expect(forGuest.length).toBeGreaterThan(0);
    expect(forGuest).not.toContain('INTERNAL: the fix ships Friday');
    expect(forDeveloper).toContain('INTERNAL: the fix ships Friday');
  });
});
