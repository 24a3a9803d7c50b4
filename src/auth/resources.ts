import { eq } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { type CiBuild, ciBuilds } from '../db/schema/ci-builds.ts';
import { type Epic, epics } from '../db/schema/epics.ts';
import { type Group, groups } from '../db/schema/groups.ts';
import { type Issue, issues } from '../db/schema/issues.ts';
import { type MergeRequest, mergeRequests } from '../db/schema/merge-requests.ts';
import { type Project, projects } from '../db/schema/projects.ts';
import { type User, users } from '../db/schema/users.ts';
import { type Vulnerability, vulnerabilities } from '../db/schema/vulnerabilities.ts';
import type { GlobalId } from '../gid.ts';

/** A resource an AI action can act on, loaded with the container that decides who may read it. */
export type Resource =
  | { type: 'Issue'; record: Issue; project: Project }
  | { type: 'MergeRequest'; record: MergeRequest; project: Project }
  | { type: 'Ci::Build'; record: CiBuild; project: Project }
  | { type: 'Vulnerability'; record: Vulnerability; project: Project }
  | { type: 'Epic'; record: Epic; group: Group }
  | { type: 'Project'; record: Project; project: Project }
  | { type: 'Group'; record: Group; group: Group }
  | { type: 'User'; record: User };

export type ResourceType = Resource['type'];

async function projectById(db: Database, id: number): Promise<Project | undefined> {
  const [project] = await db.select().from(projects).where(eq(projects.id, id)).limit(1);
  return project;
}

/** Loads the resource a global id names, or undefined when it does not exist. */
export async function loadResource(db: Database, globalId: GlobalId): Promise<Resource | undefined> {
  switch (globalId.type) {
    case 'Issue': {
      const [row] = await db
        .select({ record: issues, project: projects })
        .from(issues)
        .innerJoin(projects, eq(projects.id, issues.projectId))
        .where(eq(issues.id, globalId.id))
        .limit(1);
      return row && { type: 'Issue', ...row };
    }
    case 'MergeRequest': {
      const [row] = await db
        .select({ record: mergeRequests, project: projects })
        .from(mergeRequests)
        .innerJoin(projects, eq(projects.id, mergeRequests.projectId))
        .where(eq(mergeRequests.id, globalId.id))
        .limit(1);
      return row && { type: 'MergeRequest', ...row };
    }
    case 'Ci::Build': {
      const [row] = await db
        .select({ record: ciBuilds, project: projects })
        .from(ciBuilds)
        .innerJoin(projects, eq(projects.id, ciBuilds.projectId))
        .where(eq(ciBuilds.id, globalId.id))
        .limit(1);
      return row && { type: 'Ci::Build', ...row };
    }
    case 'Vulnerability': {
      const [row] = await db
        .select({ record: vulnerabilities, project: projects })
        .from(vulnerabilities)
        .innerJoin(projects, eq(projects.id, vulnerabilities.projectId))
        .where(eq(vulnerabilities.id, globalId.id))
        .limit(1);
      return row && { type: 'Vulnerability', ...row };
    }
    case 'Epic': {
      const [row] = await db
        .select({ record: epics, group: groups })
        .from(epics)
        .innerJoin(groups, eq(groups.id, epics.groupId))
        .where(eq(epics.id, globalId.id))
        .limit(1);
      return row && { type: 'Epic', ...row };
    }
    case 'Project': {
      const project = await projectById(db, globalId.id);
      return project && { type: 'Project', record: project, project };
    }
    case 'Group': {
      const [group] = await db.select().from(groups).where(eq(groups.id, globalId.id)).limit(1);
      return group && { type: 'Group', record: group, group };
    }
    case 'User': {
      const [user] = await db.select().from(users).where(eq(users.id, globalId.id)).limit(1);
      return user && { type: 'User', record: user };
    }
  }
}
