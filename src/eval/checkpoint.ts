import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { type CaseResult, caseResultSchema, judgeDescriptionSchema } from './eval-result.ts';

/** The first line of a checkpoint: what the run is, so `--resume <run>` needs nothing else. */
const headerSchema = z.object({
  type: z.literal('run'),
  run: z.string(),
  dataset: z.string(),
  judges: z.array(judgeDescriptionSchema),
  startedAt: z.string(),
});
export type CheckpointHeader = z.infer<typeof headerSchema>;

const caseLineSchema = z.object({ type: z.literal('case'), result: caseResultSchema });

export function checkpointPath(outDir: string, run: string): string {
  return path.join(outDir, `${run}.checkpoint.jsonl`);
}

/**
 * Reads a checkpoint: the header and every finished case. A last line cut short by an interruption is
 * ignored (that case runs again); a later result for the same case wins.
 */
export async function readCheckpoint(file: string): Promise<{ header: CheckpointHeader; results: CaseResult[] }> {
  const lines = (await readFile(file, 'utf8')).split('\n').filter((line) => line.trim() !== '');
  const header = headerSchema.parse(JSON.parse(lines[0] ?? '{}'));
  const results = new Map<string, CaseResult>();
  for (const line of lines.slice(1)) {
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      continue;
    }
    const parsed = caseLineSchema.safeParse(json);
    if (parsed.success) results.set(parsed.data.result.id, parsed.data.result);
  }
  return { header, results: [...results.values()] };
}

/** Appends one line per finished case, one write at a time, so concurrent cases never interleave. */
export async function openCheckpoint(file: string, header: CheckpointHeader | undefined) {
  await mkdir(path.dirname(file), { recursive: true });
  if (header) {
    if (existsSync(file)) throw new Error(`${file} exists already`);
    await appendFile(file, `${JSON.stringify(header)}\n`);
  }
  let writing = Promise.resolve();
  return {
    append(result: CaseResult): Promise<void> {
      writing = writing.then(() => appendFile(file, `${JSON.stringify({ type: 'case', result })}\n`));
      return writing;
    },
  };
}
