import type { z } from 'zod';

function nameOf(path: readonly PropertyKey[]): string {
  const [first, ...rest] = path.map(String);
  return `${first ?? 'params'}${rest.map((key) => `[${key}]`).join('')}`;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let current = root;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

/**
 * GitLab's REST API (Grape) reports invalid parameters as one 400 `{"error": "<a>, <b>"}` with these phrasings:
 * `prompt is missing`, `max_tokens_to_sample is invalid`, `temperature does not have a valid value`.
 */
export function toGrapeError(issues: readonly z.core.$ZodIssue[], input: unknown): { error: string } {
  const messages = issues.map((issue) => {
    const name = nameOf(issue.path);
    if (issue.code === 'custom') return issue.message;
    if (issue.code === 'invalid_type' && valueAt(input, issue.path) === undefined) return `${name} is missing`;
    if (issue.code === 'too_big' || issue.code === 'too_small' || issue.code === 'invalid_value') {
      return `${name} does not have a valid value`;
    }
    return `${name} is invalid`;
  });
  return { error: [...new Set(messages)].join(', ') };
}
