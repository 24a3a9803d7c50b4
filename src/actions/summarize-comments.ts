import { randomInt } from 'node:crypto';
import { and, asc, eq } from 'drizzle-orm';
import { z } from 'zod';
import { createDatabaseAccessDirectory } from '../auth/access-directory.ts';
import { accessLevels } from '../db/schema/members.ts';
import { notes } from '../db/schema/notes.ts';
import { defineAiAction } from './define-ai-action.ts';
import { globalIdField } from './input-fields.ts';

/** GitLab's budget for notes in the prompt: 100,000 tokens × 0.8 × 4 characters. */
export const maxNotesCharacters = 320_000;

export const summarizeCommentsAction = defineAiAction({
  name: 'summarizeComments',
  actionName: 'summarize_comments',
  description: 'Summarize the comments of an issue or epic.',
  maturity: 'beta',
  graphqlInputName: 'AiSummarizeCommentsInput',
  input: z.object({ resourceId: globalIdField('AiModelID') }),
  resourceTypes: ['Issue', 'Epic'],
  resourceRequired: true,
  selfManaged: true,
  internal: false,
  unitPrimitive: 'summarize_comments',
  featureFlag: 'summarize_comments',
  rateLimitClass: 'ai_action',
  promptVariables: ['resource_label', 'delimiter', 'comments'],
  storesInChatHistory: false,
  exampleInput: { resourceId: 'gid://gitlab/Issue/1' },
  async plan({ db, user, resource }) {
    if (resource?.type !== 'Issue' && resource?.type !== 'Epic') {
      return { kind: 'answer', content: 'I am sorry, I am unable to find what you are looking for.' };
    }
    // Internal notes are for reporters and above: a guest's summary must not carry them.
    const directory = createDatabaseAccessDirectory(db);
    const level = user.admin
      ? accessLevels.owner
      : resource.type === 'Epic'
        ? await directory.groupAccessLevel(user.id, resource.group.id)
        : await directory.projectAccessLevel(user.id, resource.project);
    const allRows = await db
      .select({ note: notes.note, internal: notes.internal })
      .from(notes)
      .where(
        and(eq(notes.noteableType, resource.type), eq(notes.noteableId, resource.record.id), eq(notes.system, false)),
      )
      .orderBy(asc(notes.createdAt), asc(notes.id));
    const rows = allRows.filter((row) => !row.internal || level >= accessLevels.reporter);
    const label = resource.type === 'Issue' ? `Issue #${resource.record.iid}` : `Epic &${resource.record.iid}`;
    if (rows.length === 0) return { kind: 'answer', content: `${label} has no comments to be summarized.` };
    let budget = maxNotesCharacters;
    const kept: string[] = [];
    for (const row of rows) {
      if (row.note.length > budget) break;
      kept.push(row.note);
      budget -= row.note.length;
    }
    // A random delimiter the comment authors cannot predict, so a comment cannot close the block early.
    const delimiter = String(randomInt(100, 1_000));
    const wrapped = kept.map((note) => `<${delimiter}>${note}</${delimiter}>`).join('\n');
    return { kind: 'prompt', variables: { resource_label: label, delimiter, comments: wrapped } };
  },
});
