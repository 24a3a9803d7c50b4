import type { z } from 'zod';

/** One item of FastAPI's 422 `detail` array (pydantic v2 shape; `input` is left out so code is never echoed). */
export interface FastApiValidationDetail {
  loc: (string | number)[];
  msg: string;
  type: string;
  ctx?: Record<string, unknown>;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let current = root;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

const typeMessages: Record<string, { type: string; msg: string }> = {
  string: { type: 'string_type', msg: 'Input should be a valid string' },
  int: { type: 'int_type', msg: 'Input should be a valid integer' },
  number: { type: 'int_type', msg: 'Input should be a valid integer' },
  boolean: { type: 'bool_type', msg: 'Input should be a valid boolean' },
  object: { type: 'model_attributes_type', msg: 'Input should be a valid dictionary or object to extract fields from' },
  array: { type: 'list_type', msg: 'Input should be a valid list' },
};

function formatLiteral(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : String(value);
}

function listOf(values: readonly unknown[]): string {
  const formatted = values.map(formatLiteral);
  return formatted.length <= 1
    ? (formatted[0] ?? '')
    : `${formatted.slice(0, -1).join(', ')} or ${formatted.at(-1) as string}`;
}

/**
 * Maps zod issues to FastAPI's 422 body items with pydantic v2's `type` and `msg` (what the AI gateway answers),
 * so clients written against GitLab's gateway read our errors the same way. `input` is the parsed JSON body:
 * zod reports a missing field as a type error, so the value at the path tells "missing" apart.
 */
export function toFastApiValidationDetails(
  issues: readonly z.core.$ZodIssue[],
  input: unknown,
): FastApiValidationDetail[] {
  return issues.map((issue) => {
    const loc: (string | number)[] = [
      'body',
      ...issue.path.map((key) => (typeof key === 'number' ? key : String(key))),
    ];
    switch (issue.code) {
      case 'invalid_type': {
        if (valueAt(input, issue.path) === undefined) return { loc, msg: 'Field required', type: 'missing' };
        const known = typeMessages[issue.expected];
        if (issue.expected === 'int' && typeof valueAt(input, issue.path) === 'number') {
          return {
            loc,
            msg: 'Input should be a valid integer, got a number with a fractional part',
            type: 'int_from_float',
          };
        }
        return { loc, msg: known?.msg ?? issue.message, type: known?.type ?? 'type_error' };
      }
      case 'too_big': {
        const limit = Number(issue.maximum);
        if (issue.origin === 'string') {
          return {
            loc,
            msg: `String should have at most ${limit} characters`,
            type: 'string_too_long',
            ctx: { max_length: limit },
          };
        }
        if (issue.origin === 'array') {
          const actual = (valueAt(input, issue.path) as unknown[] | undefined)?.length ?? limit + 1;
          return {
            loc,
            msg: `List should have at most ${limit} items after validation, not ${actual}`,
            type: 'too_long',
            ctx: { field_type: 'List', max_length: limit, actual_length: actual },
          };
        }
        return {
          loc,
          msg: `Input should be less than or equal to ${limit}`,
          type: 'less_than_equal',
          ctx: { le: limit },
        };
      }
      case 'too_small': {
        const limit = Number(issue.minimum);
        if (issue.origin === 'string') {
          return {
            loc,
            msg: `String should have at least ${limit} characters`,
            type: 'string_too_short',
            ctx: { min_length: limit },
          };
        }
        return {
          loc,
          msg: `Input should be greater than or equal to ${limit}`,
          type: 'greater_than_equal',
          ctx: { ge: limit },
        };
      }
      case 'invalid_value':
        return {
          loc,
          msg: `Input should be ${listOf(issue.values)}`,
          type: 'literal_error',
          ctx: { expected: listOf(issue.values) },
        };
      default:
        return { loc, msg: issue.message, type: 'value_error' };
    }
  });
}

/** FastAPI's answer to a body that is not JSON at all. */
export function jsonDecodeDetail(error: unknown): FastApiValidationDetail {
  return {
    loc: ['body', 0],
    msg: 'JSON decode error',
    type: 'json_invalid',
    ctx: { error: error instanceof Error ? error.message : 'invalid JSON' },
  };
}
