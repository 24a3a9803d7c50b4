import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

const repositoryRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The shared corpus, read in place beside the repository. */
export const documentationFolder = path.resolve(repositoryRoot, '../shared/data/gitlab-docs');
export const questionsFile = path.resolve(repositoryRoot, '../shared/data/doc-questions.jsonl');
/** Vector cache for the slow offline model (vectors only; `tmp/` is git-ignored). */
export const embeddingCacheDirectory = path.resolve(repositoryRoot, 'tmp/embedding-cache');

const questionSchema = z.object({
  id: z.string(),
  question: z.string().min(1),
  /** Pages under `doc/` that answer the question. */
  expected_sources: z.array(z.string()).min(1),
  expected_section: z.string().optional(),
  reference_answer: z.string().optional(),
});

export type DocumentationQuestion = z.infer<typeof questionSchema>;

export async function readDocumentationQuestions(): Promise<DocumentationQuestion[]> {
  const text = await readFile(questionsFile, 'utf8');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => questionSchema.parse(JSON.parse(line)));
}
