import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';

/** The file an editor opened, for slash commands (`/explain`, `/tests`, `/refactor`, `/fix`). */
export interface EvalCurrentFile {
  fileName: string;
  selectedText: string;
  contentAboveCursor?: string;
  contentBelowCursor?: string;
}

/** One question to put to Duo Chat, with what a correct answer must say. */
export interface EvalCase {
  id: string;
  /** The question template it was made from ("What is the status of %<url>s?"): accuracy is reported per template. */
  template: string;
  question: string;
  /** The resource the user is looking at (`gid://gitlab/Issue/1000`), or null. */
  resourceId: string | null;
  currentFile?: EvalCurrentFile;
  /** The reference answer: the facts the judges compare the answer with. */
  referenceAnswer: string;
  /** Chat tools a good answer uses; reported, not graded. */
  expectedTools: string[] | null;
  /** Documentation pages (relative to `doc/`) that answer it, for documentation questions. */
  expectedSources: string[] | null;
}

const caseLineSchema = z.object({
  id: z.string().min(1),
  template: z.string().min(1).optional(),
  question: z.string().min(1),
  resource_id: z
    .string()
    .regex(/^gid:\/\/gitlab\/[A-Za-z:]+\/\d+$/)
    .optional(),
  current_file: z
    .object({
      file_name: z.string().min(1),
      selected_text: z.string(),
      content_above_cursor: z.string().optional(),
      content_below_cursor: z.string().optional(),
    })
    .optional(),
  reference_answer: z.string().min(1),
  expected_tools: z.array(z.string()).optional(),
  expected_sources: z.array(z.string()).optional(),
});

/**
 * `{"include": "<file>"}` reads another JSONL file (relative to this one) in place: the shared
 * `doc-questions.jsonl` is read where it lives, never copied into the repository.
 */
const includeLineSchema = z.object({
  include: z.string().min(1),
  /** Template name for the included cases that have none. */
  template: z.string().min(1).optional(),
  /** Prepended to the included ids, so two sets cannot collide. */
  id_prefix: z.string().default(''),
  /** Only the first N cases of the included file. */
  limit: z.number().int().positive().optional(),
});

export class DatasetError extends Error {
  override name = 'DatasetError';
}

function toCase(line: z.infer<typeof caseLineSchema>, defaults: { template?: string; idPrefix: string }): EvalCase {
  return {
    id: `${defaults.idPrefix}${line.id}`,
    template: line.template ?? defaults.template ?? (line.expected_sources ? 'Documentation question' : 'Question'),
    question: line.question,
    resourceId: line.resource_id ?? null,
    ...(line.current_file
      ? {
          currentFile: {
            fileName: line.current_file.file_name,
            selectedText: line.current_file.selected_text,
            ...(line.current_file.content_above_cursor === undefined
              ? {}
              : { contentAboveCursor: line.current_file.content_above_cursor }),
            ...(line.current_file.content_below_cursor === undefined
              ? {}
              : { contentBelowCursor: line.current_file.content_below_cursor }),
          },
        }
      : {}),
    referenceAnswer: line.reference_answer,
    expectedTools: line.expected_tools ?? null,
    expectedSources: line.expected_sources ?? null,
  };
}

async function readCases(
  file: string,
  defaults: { template?: string; idPrefix: string },
  seen: readonly string[],
): Promise<EvalCase[]> {
  if (seen.includes(file)) throw new DatasetError(`${file} includes itself`);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new DatasetError(`Cannot read dataset ${file}: ${(error as Error).message}`);
  }
  const cases: EvalCase[] = [];
  for (const [index, raw] of text.split('\n').entries()) {
    if (raw.trim() === '') continue;
    const where = `${file}:${index + 1}`;
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      throw new DatasetError(`${where}: not valid JSON`);
    }
    if (json && typeof json === 'object' && 'include' in json) {
      const include = includeLineSchema.safeParse(json);
      if (!include.success) throw new DatasetError(`${where}: ${include.error.issues[0]?.message}`);
      const included = await readCases(
        path.resolve(path.dirname(file), include.data.include),
        {
          ...(include.data.template ? { template: include.data.template } : {}),
          idPrefix: `${defaults.idPrefix}${include.data.id_prefix}`,
        },
        [...seen, file],
      );
      cases.push(...included.slice(0, include.data.limit));
      continue;
    }
    const parsed = caseLineSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new DatasetError(`${where}: ${issue?.path.join('.') || 'line'}: ${issue?.message}`);
    }
    cases.push(toCase(parsed.data, defaults));
  }
  return cases;
}

/** Reads a JSONL dataset (cases and `include` lines); ids must be unique across the whole set. */
export async function loadDataset(file: string): Promise<EvalCase[]> {
  const cases = await readCases(path.resolve(file), { idPrefix: '' }, []);
  const ids = new Set<string>();
  for (const evalCase of cases) {
    if (ids.has(evalCase.id)) throw new DatasetError(`${file}: case id ${evalCase.id} appears twice`);
    ids.add(evalCase.id);
  }
  if (cases.length === 0) throw new DatasetError(`${file}: no cases`);
  return cases;
}

/** The JSONL line of a case, as datasets store it (snake_case, like the shared doc-questions file). */
export function caseToLine(evalCase: EvalCase): string {
  return JSON.stringify({
    id: evalCase.id,
    template: evalCase.template,
    question: evalCase.question,
    ...(evalCase.resourceId ? { resource_id: evalCase.resourceId } : {}),
    ...(evalCase.currentFile
      ? {
          current_file: {
            file_name: evalCase.currentFile.fileName,
            selected_text: evalCase.currentFile.selectedText,
            ...(evalCase.currentFile.contentAboveCursor === undefined
              ? {}
              : { content_above_cursor: evalCase.currentFile.contentAboveCursor }),
            ...(evalCase.currentFile.contentBelowCursor === undefined
              ? {}
              : { content_below_cursor: evalCase.currentFile.contentBelowCursor }),
          },
        }
      : {}),
    reference_answer: evalCase.referenceAnswer,
    ...(evalCase.expectedTools ? { expected_tools: evalCase.expectedTools } : {}),
    ...(evalCase.expectedSources ? { expected_sources: evalCase.expectedSources } : {}),
  });
}
