import type { Group, Visibility } from '../db/schema/groups.ts';
import { accessLevels } from '../db/schema/members.ts';
import type { AccessDirectory } from './access-directory.ts';
import type { Resource } from './resources.ts';
import type { AuthUser } from './tokens.ts';

/** Signed-in users see public and internal containers; private ones need membership. */
function visibleWithoutMembership(visibility: Visibility): boolean {
  return visibility === 'public' || visibility === 'internal';
}

/**
 * Whether the user may read the resource, following GitLab's abilities: membership (inherited from
 * groups), private projects, confidential issues and epics (author, assignee or reporter+), code,
 * merge requests and CI jobs of private projects (reporter+), vulnerabilities (developer+).
 */
export async function canReadResource(
  directory: AccessDirectory,
  user: AuthUser,
  resource: Resource,
): Promise<boolean> {
  if (resource.type === 'User') return resource.record.id === user.id;
  if (user.admin) return true;
  if (resource.type === 'Epic' || resource.type === 'Group') {
    const group: Group = resource.group;
    const level = await directory.groupAccessLevel(user.id, group.id);
    const canSeeGroup = level >= accessLevels.guest || visibleWithoutMembership(group.visibility);
    if (!canSeeGroup) return false;
    if (resource.type === 'Epic' && resource.record.confidential) {
      return resource.record.authorId === user.id || level >= accessLevels.reporter;
    }
    return true;
  }
  const project = resource.project;
  const level = await directory.projectAccessLevel(user.id, project);
  const isPrivate = project.visibility === 'private';
  if (isPrivate && level < accessLevels.guest) return false;
  switch (resource.type) {
    case 'Project':
      return true;
    case 'Issue':
      if (!resource.record.confidential) return true;
      return (
        resource.record.authorId === user.id || resource.record.assigneeId === user.id || level >= accessLevels.reporter
      );
    case 'MergeRequest':
    case 'Ci::Build':
      return !isPrivate || level >= accessLevels.reporter;
    case 'Vulnerability':
      return level >= accessLevels.developer;
  }
}
