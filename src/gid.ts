/** GitLab global ids: `gid://gitlab/<Type>/<id>`. */
export const globalIdTypes = [
  'User',
  'Group',
  'Project',
  'Issue',
  'MergeRequest',
  'Epic',
  'Ci::Build',
  'Vulnerability',
  'Ai::Conversation::Thread',
] as const;
export type GlobalIdType = (typeof globalIdTypes)[number];

export interface GlobalId<T extends GlobalIdType = GlobalIdType> {
  type: T;
  id: number;
}

const globalIdPattern = /^gid:\/\/gitlab\/([A-Za-z][A-Za-z0-9]*(?:::[A-Za-z][A-Za-z0-9]*)*)\/([1-9][0-9]{0,9})$/;

export function toGlobalId(type: GlobalIdType, id: number): string {
  return `gid://gitlab/${type}/${id}`;
}

/** Parses a global id; the error messages are GitLab's. */
export function parseGlobalId(value: unknown): GlobalId {
  const text = String(value);
  const match = typeof value === 'string' ? globalIdPattern.exec(value) : null;
  const id = match ? Number(match[2]) : Number.NaN;
  if (!match || !Number.isSafeInteger(id) || id > 2_147_483_647) {
    throw new TypeError(`${JSON.stringify(text)} is not a valid Global ID`);
  }
  const type = match[1] as GlobalIdType;
  if (!(globalIdTypes as readonly string[]).includes(type)) {
    throw new TypeError(`${JSON.stringify(text)} is not a valid Global ID`);
  }
  return { type, id };
}

/** Parses a global id that must be of one of `types` (GitLab's typed ID scalars such as `IssueID`). */
export function parseGlobalIdOf<T extends GlobalIdType>(value: unknown, types: readonly T[]): GlobalId<T> {
  const globalId = parseGlobalId(value);
  if (!(types as readonly GlobalIdType[]).includes(globalId.type)) {
    throw new TypeError(`${JSON.stringify(String(value))} does not represent an instance of ${types.join(' or ')}`);
  }
  return globalId as GlobalId<T>;
}
