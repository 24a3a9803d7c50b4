import { and, asc, desc, eq } from 'drizzle-orm';
import { createDatabaseAccessDirectory } from '../auth/access-directory.ts';
import { canReadResource } from '../auth/authorize.ts';
import { loadResource, type Resource } from '../auth/resources.ts';
import type { AuthUser } from '../auth/tokens.ts';
import type { Database } from '../db/client.ts';
import { accessLevels } from '../db/schema/members.ts';
import { type MergeRequest, mergeRequests } from '../db/schema/merge-requests.ts';
import { notes } from '../db/schema/notes.ts';
import type { Project } from '../db/schema/projects.ts';
import type { Vulnerability } from '../db/schema/vulnerabilities.ts';

/** A plain-text rendering of a resource for prompts: the fields a model needs, nothing internal. */
export function describeResource(resource: Exclude<Resource, { type: 'User' }>): string {
  switch (resource.type) {
    case 'Issue':
      return `Issue #${resource.record.iid} in ${resource.project.fullPath} (${resource.record.state})\nTitle: ${resource.record.title}\nDescription:\n${resource.record.description}`;
    case 'MergeRequest':
      return `Merge request !${resource.record.iid} in ${resource.project.fullPath} (${resource.record.state}, ${resource.record.sourceBranch} → ${resource.record.targetBranch})\nTitle: ${resource.record.title}\nDescription:\n${resource.record.description}`;
    case 'Epic':
      return `Epic &${resource.record.iid} in ${resource.group.fullPath} (${resource.record.state})\nTitle: ${resource.record.title}\nDescription:\n${resource.record.description}`;
    case 'Ci::Build':
      return `CI job ${resource.record.name} (stage ${resource.record.stage}, ${resource.record.status}) on ${resource.record.ref} in ${resource.project.fullPath}`;
    case 'Vulnerability':
      return `Vulnerability "${resource.record.title}" (${resource.record.severity}) in ${resource.project.fullPath}\n${resource.record.description}`;
    case 'Project':
      return `Project ${resource.record.fullPath}`;
    case 'Group':
      return `Group ${resource.record.fullPath}`;
  }
}

/** A one-line heading for a resource: what it is, where it lives, and its title when it has one. */
export function resourceHeading(resource: Exclude<Resource, { type: 'User' }>): string {
  switch (resource.type) {
    case 'Issue':
      return `Issue #${resource.record.iid} in ${resource.project.fullPath}: ${resource.record.title}`;
    case 'MergeRequest':
      return `Merge request !${resource.record.iid} in ${resource.project.fullPath}: ${resource.record.title}`;
    case 'Epic':
      return `Epic &${resource.record.iid} in ${resource.group.fullPath}: ${resource.record.title}`;
    case 'Ci::Build':
      return `CI job ${resource.record.name} in ${resource.project.fullPath}`;
    case 'Vulnerability':
      return `Vulnerability "${resource.record.title}" in ${resource.project.fullPath}`;
    case 'Project':
      return `A new item in project ${resource.record.fullPath}`;
    case 'Group':
      return `A new item in group ${resource.record.fullPath}`;
  }
}

/**
 * Makes text safe to place between `<tag>` and `</tag>` in a prompt: a closing tag inside the text
 * (`</diff>` in a diff that edits a prompt, say) is defused, so quoted data cannot end its block early
 * and pose as instructions.
 */
export function quoteData(text: string, tag: string): string {
  return text.replace(new RegExp(`</(\\s*${tag})`, 'gi'), '<\\/$1');
}

/** The first `maxCharacters` of text, cut at a line end, with a marker when something was left out. */
export function headWithinBudget(text: string, maxCharacters: number): string {
  if (text.length <= maxCharacters) return text;
  const cut = text.lastIndexOf('\n', maxCharacters);
  return `${text.slice(0, cut > 0 ? cut : maxCharacters)}\n[… truncated: ${text.length} characters in all]`;
}

/** The last `maxCharacters` of text, starting at a line start, with a marker when something was left out. */
export function tailWithinBudget(text: string, maxCharacters: number): string {
  if (text.length <= maxCharacters) return text;
  const start = text.length - maxCharacters;
  const lineStart = text.indexOf('\n', start);
  const kept = lineStart >= 0 && lineStart < text.length - 1 ? text.slice(lineStart + 1) : text.slice(start);
  return `[… ${text.length - kept.length} earlier characters omitted]\n${kept}`;
}

/**
 * Budget for a diff in a prompt: 100,000 characters, about 25,000 tokens at 4 characters a token. Enough
 * for every file of an ordinary merge request; a huge one keeps its first files whole rather than a
 * sliver of each, and the request stays well inside any supported model's context window.
 */
export const maxDiffCharacters = 100_000;

/** A project id given as GitLab's `ID` argument: a number (`"1"`) or a Project global id. */
export const projectIdPattern = /^(?:[1-9][0-9]{0,9}|gid:\/\/gitlab\/Project\/[1-9][0-9]{0,9})$/;

function projectIdNumber(value: string): number {
  return Number(value.slice(value.lastIndexOf('/') + 1));
}

/**
 * GitLab's `source_project` rule: the project named by `sourceProjectId` when it exists and the user may
 * read it, else the target project.
 */
export async function resolveSourceProject(
  db: Database,
  user: AuthUser,
  targetProject: Project,
  sourceProjectId: string | undefined,
): Promise<Project> {
  if (!sourceProjectId || projectIdNumber(sourceProjectId) === targetProject.id) return targetProject;
  const source = await loadResource(db, { type: 'Project', id: projectIdNumber(sourceProjectId) });
  if (!source || !(await canReadResource(createDatabaseAccessDirectory(db), user, source))) return targetProject;
  return source.record as Project;
}

/**
 * The open merge request of `targetProject` from `sourceBranch` into `targetBranch`, which holds the diff
 * between the two branches. Merge requests here are stored with their target project only, so one from
 * another (forked) source project is never found.
 */
export async function findOpenMergeRequest(
  db: Database,
  sourceProject: Project,
  targetProject: Project,
  branches: { sourceBranch: string; targetBranch: string },
): Promise<MergeRequest | undefined> {
  if (sourceProject.id !== targetProject.id) return undefined;
  const [row] = await db
    .select()
    .from(mergeRequests)
    .where(
      and(
        eq(mergeRequests.projectId, targetProject.id),
        eq(mergeRequests.sourceBranch, branches.sourceBranch),
        eq(mergeRequests.targetBranch, branches.targetBranch),
        eq(mergeRequests.state, 'opened'),
      ),
    )
    .orderBy(desc(mergeRequests.id))
    .limit(1);
  return row;
}

/** The user's human comments on a merge request, oldest first; internal ones only for reporters and above. */
export async function mergeRequestComments(
  db: Database,
  user: AuthUser,
  resource: Extract<Resource, { type: 'MergeRequest' }>,
): Promise<string[]> {
  const level = user.admin
    ? accessLevels.owner
    : await createDatabaseAccessDirectory(db).projectAccessLevel(user.id, resource.project);
  const rows = await db
    .select({ note: notes.note, internal: notes.internal })
    .from(notes)
    .where(
      and(eq(notes.noteableType, 'MergeRequest'), eq(notes.noteableId, resource.record.id), eq(notes.system, false)),
    )
    .orderBy(asc(notes.createdAt), asc(notes.id));
  return rows.filter((row) => !row.internal || level >= accessLevels.reporter).map((row) => row.note);
}

/** A vulnerability for a prompt: finding, location and identifiers (CWE, OWASP, …); never its source code. */
export function describeVulnerability(vulnerability: Vulnerability): string {
  const { location } = vulnerability;
  const lines =
    location.endLine && location.endLine !== location.startLine
      ? `${location.startLine}-${location.endLine}`
      : `${location.startLine}`;
  const identifiers = vulnerability.identifiers.map((identifier) =>
    identifier.url ? `${identifier.name} (${identifier.url})` : identifier.name,
  );
  return [
    `Title: ${vulnerability.title}`,
    `Severity: ${vulnerability.severity}`,
    `Found by: ${vulnerability.reportType}`,
    `Location: ${location.file}, line ${lines}`,
    ...(identifiers.length > 0 ? [`Identifiers: ${identifiers.join(', ')}`] : []),
    `Description: ${vulnerability.description}`,
  ].join('\n');
}
