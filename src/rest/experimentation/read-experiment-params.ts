import type { z } from 'zod';
import { readBody } from '../http-io.ts';
import { RestHttpError } from '../rest-http-error.ts';
import type { RouteContext } from '../rest-services.ts';
import { toGrapeError } from './grape-validation-errors.ts';

/** Reads a JSON body and validates it Grape-style (400 `{"error": …}`); an empty body is no params at all. */
export async function readExperimentParams<Schema extends z.ZodType>(
  context: RouteContext,
  schema: Schema,
  maxBytes: number,
): Promise<z.infer<Schema>> {
  const raw = await readBody(context.request, maxBytes, { message: '413 Request Entity Too Large' });
  let json: unknown = {};
  if (raw.length > 0) {
    try {
      json = JSON.parse(raw.toString('utf8'));
    } catch {
      throw new RestHttpError(400, { error: 'The request body is not valid JSON.' });
    }
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new RestHttpError(400, toGrapeError(parsed.error.issues, json));
  return parsed.data;
}
