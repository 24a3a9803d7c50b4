import { and, asc, eq } from 'drizzle-orm';
import { canReadResource } from '../../auth/authorize.ts';
import type { Resource } from '../../auth/resources.ts';
import { ciBuilds } from '../../db/schema/ci-builds.ts';
import { epics } from '../../db/schema/epics.ts';
import { type Group, groups } from '../../db/schema/groups.ts';
import { issues } from '../../db/schema/issues.ts';
import { accessLevels } from '../../db/schema/members.ts';
import { mergeRequests } from '../../db/schema/merge-requests.ts';
import { notes } from '../../db/schema/notes.ts';
import { type Project, projects } from '../../db/schema/projects.ts';
import type { ChatToolContext } from './chat-tool.ts';
import { findReference, type ReferenceKind } from './resource-references.ts';

type Readable = Extract<Resource, { type: 'Issue' | 'MergeRequest' | 'Epic' | 'Ci::Build' }>;
const resourceTypeOf = { issue: 'Issue', merge_request: 'MergeRequest', epic: 'Epic', job: 'Ci::Build' } as const;

function currentProject(resource: Resource | null): Project | undefined {
  return resource && 'project' in resource ? resource.project : undefined;
}

async function currentGroup(context: ChatToolContext): Promise<Group | undefined> {
  const { resource } = context;
  if (resource && 'group' in resource) return resource.group;
  const project = currentProject(resource);
  if (!project) return undefined;
  const [group] = await context.db.select().from(groups).where(eq(groups.id, project.groupId)).limit(1);
  return group;
}

async function projectByPath(context: ChatToolContext, path: string | undefined): Promise<Project | undefined> {
  if (path === undefined) return currentProject(context.resource);
  const [project] = await context.db.select().from(projects).where(eq(projects.fullPath, path)).limit(1);
  return project;
}

async function load(context: ChatToolContext, kind: ReferenceKind, reference: { path?: string; number: number }) {
  const { db } = context;
  switch (kind) {
    case 'issue': {
      const project = await projectByPath(context, reference.path);
      if (!project) return undefined;
      const [record] = await db
        .select()
        .from(issues)
        .where(and(eq(issues.projectId, project.id), eq(issues.iid, reference.number)))
        .limit(1);
      return record && ({ type: 'Issue', record, project } satisfies Readable);
    }
    case 'merge_request': {
      const project = await projectByPath(context, reference.path);
      if (!project) return undefined;
      const [record] = await db
        .select()
        .from(mergeRequests)
        .where(and(eq(mergeRequests.projectId, project.id), eq(mergeRequests.iid, reference.number)))
        .limit(1);
      return record && ({ type: 'MergeRequest', record, project } satisfies Readable);
    }
    case 'epic': {
      const group =
        reference.path === undefined
          ? await currentGroup(context)
          : (await db.select().from(groups).where(eq(groups.fullPath, reference.path)).limit(1))[0];
      if (!group) return undefined;
      const [record] = await db
        .select()
        .from(epics)
        .where(and(eq(epics.groupId, group.id), eq(epics.iid, reference.number)))
        .limit(1);
      return record && ({ type: 'Epic', record, group } satisfies Readable);
    }
    case 'job': {
      const [row] = await db
        .select({ record: ciBuilds, project: projects })
        .from(ciBuilds)
        .innerJoin(projects, eq(projects.id, ciBuilds.projectId))
        .where(eq(ciBuilds.id, reference.number))
        .limit(1);
      return row && ({ type: 'Ci::Build', ...row } satisfies Readable);
    }
  }
}

/**
 * The object a reader tool was asked for: the one the action input (or else the question) refers to by
 * URL, reference or number, or the chat's current resource when neither names one. Undefined when it does
 * not exist or the user may not read it, which the tools answer with the same words, so a user cannot
 * tell a hidden object from a missing one.
 */
export async function readReferencedResource<Kind extends ReferenceKind>(
  context: ChatToolContext,
  kind: Kind,
  input: string,
): Promise<Extract<Readable, { type: (typeof resourceTypeOf)[Kind] }> | undefined> {
  const reference = findReference(input, kind) ?? findReference(context.question, kind);
  const wanted = resourceTypeOf[kind];
  const resource = reference
    ? await load(context, kind, reference)
    : context.resource?.type === wanted
      ? (context.resource as Readable)
      : undefined;
  if (!resource || resource.type !== wanted) return undefined;
  if (!(await canReadResource(context.directory, context.user, resource))) return undefined;
  return resource as Extract<Readable, { type: (typeof resourceTypeOf)[Kind] }>;
}

/** The human comments on an issue, merge request or epic that the user may read, oldest first. */
export async function readableComments(
  context: ChatToolContext,
  resource: Extract<Readable, { type: 'Issue' | 'MergeRequest' | 'Epic' }>,
): Promise<{ author: number; note: string }[]> {
  const level = context.user.admin
    ? accessLevels.owner
    : resource.type === 'Epic'
      ? await context.directory.groupAccessLevel(context.user.id, resource.group.id)
      : await context.directory.projectAccessLevel(context.user.id, resource.project);
  const rows = await context.db
    .select({ author: notes.authorId, note: notes.note, internal: notes.internal })
    .from(notes)
    .where(
      and(eq(notes.noteableType, resource.type), eq(notes.noteableId, resource.record.id), eq(notes.system, false)),
    )
    .orderBy(asc(notes.createdAt), asc(notes.id));
  return rows
    .filter((row) => !row.internal || level >= accessLevels.reporter)
    .map((row) => ({ author: row.author, note: row.note }));
}
