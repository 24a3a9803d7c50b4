import { describe, expect, it } from 'vitest';
import { parseGlobalId, parseGlobalIdOf, toGlobalId } from '../../src/gid.ts';

describe('global ids', () => {
  it('round-trips', () => {
    expect(parseGlobalId(toGlobalId('Ci::Build', 52))).toEqual({ type: 'Ci::Build', id: 52 });
    expect(toGlobalId('Issue', 52)).toBe('gid://gitlab/Issue/52');
  });

  it.each([
    '',
    'gid://gitlab/Issue',
    'gid://gitlab/Issue/0',
    'gid://gitlab/Issue/-1',
    'gid://gitlab/Nope/1',
    'gid://other/Issue/1',
    'gid://gitlab/Issue/99999999999',
    'gid://gitlab/Issue/1/2',
  ])('refuses %j in GitLab words', (value) => {
    expect(() => parseGlobalId(value)).toThrow(`${JSON.stringify(value)} is not a valid Global ID`);
  });

  it('refuses an id of the wrong type for a typed scalar', () => {
    expect(() => parseGlobalIdOf('gid://gitlab/Project/1', ['User'])).toThrow(
      '"gid://gitlab/Project/1" does not represent an instance of User',
    );
  });
});
