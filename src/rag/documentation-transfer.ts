import { and, asc, eq, gt, inArray } from 'drizzle-orm';
import { z } from 'zod';
import type { Database } from '../db/client.ts';
import { documentationChunks, type NewDocumentationChunk } from '../db/schema/documentation-chunks.ts';
import {
  activateDocumentationVersion,
  getCurrentDocumentationVersion,
  startDocumentationVersion,
} from './documentation-versions.ts';
import { storedEmbeddingDimensions } from './embedders/embedding-dimensions.ts';

/** Rows read per query while exporting: 256 × ~8 KB vectors is a couple of megabytes in memory at once. */
const exportPageSize = 256;
/** Rows per INSERT while importing, as in the seed. */
const importRowsPerStatement = 64;

/** One line of the `docs:export` JSONL file (GitLab's `vertex_gitlab_docs.json` dump, plus our columns). */
export const exportedChunkSchema = z.object({
  sourcePath: z.string().min(1),
  url: z.string().min(1),
  title: z.string(),
  headingPath: z.array(z.string()),
  position: z.number().int().nonnegative(),
  content: z.string().min(1),
  checksum: z.string().min(1),
  pageChecksum: z.string().min(1),
  metadata: z.record(z.string(), z.unknown()),
  embeddingModel: z.string().min(1),
  embedding: z.array(z.number()).length(storedEmbeddingDimensions),
});

export type ExportedChunk = z.infer<typeof exportedChunkSchema>;

/** Streams the current version's chunks with their embeddings, in page order. */
export async function* exportDocumentationChunks(db: Database): AsyncGenerator<ExportedChunk> {
  const current = await getCurrentDocumentationVersion(db);
  if (!current) return;
  let afterId = 0;
  for (;;) {
    const rows = await db
      .select()
      .from(documentationChunks)
      .where(and(eq(documentationChunks.version, current.version), gt(documentationChunks.id, afterId)))
      .orderBy(asc(documentationChunks.id))
      .limit(exportPageSize);
    for (const row of rows) {
      yield {
        sourcePath: row.sourcePath,
        url: row.url,
        title: row.title,
        headingPath: row.headingPath,
        position: row.position,
        content: row.content,
        checksum: row.checksum,
        pageChecksum: row.pageChecksum,
        metadata: row.metadata,
        embeddingModel: row.embeddingModel,
        embedding: row.embedding,
      };
    }
    const last = rows.at(-1);
    if (!last || rows.length < exportPageSize) return;
    afterId = last.id;
  }
}

export class MixedEmbeddingModelsError extends Error {
  override name = 'MixedEmbeddingModelsError';
}

/** Parses JSONL text into chunks; a bad line throws with its line number. */
export function parseExportedChunks(text: string): ExportedChunk[] {
  const chunks: ExportedChunk[] = [];
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    const parsed = exportedChunkSchema.safeParse(JSON.parse(line));
    if (!parsed.success) throw new Error(`Line ${index + 1} is not an exported chunk: ${parsed.error.message}`);
    chunks.push(parsed.data);
  });
  return chunks;
}

export interface ImportDocumentationOptions {
  /** Recorded on the version, e.g. the file name. */
  origin: string;
  /** Called after every page. */
  onProgress?: (progress: { pagesDone: number; pagesTotal: number; chunksDone: number }) => void;
}

/**
 * Loads exported chunks as a new version and makes it current once all are stored (the rake `seed` task's
 * equivalent, without truncating the table first). Resumable like the seed: pages already stored in the
 * unfinished version with the same checksum are skipped.
 */
export async function importDocumentationChunks(
  db: Database,
  chunks: ExportedChunk[],
  options: ImportDocumentationOptions,
): Promise<{ version: number; chunks: number; pages: number }> {
  const model = chunks[0]?.embeddingModel;
  if (!model) throw new Error('The import holds no chunks');
  if (chunks.some((chunk) => chunk.embeddingModel !== model)) {
    throw new MixedEmbeddingModelsError('An import must hold vectors of one embedding model');
  }
  const { version } = await startDocumentationVersion(db, { embeddingModel: model, origin: options.origin });
  const pages = new Map<string, ExportedChunk[]>();
  for (const chunk of chunks) pages.set(chunk.sourcePath, [...(pages.get(chunk.sourcePath) ?? []), chunk]);
  const stored = await db
    .selectDistinct({ sourcePath: documentationChunks.sourcePath, pageChecksum: documentationChunks.pageChecksum })
    .from(documentationChunks)
    .where(eq(documentationChunks.version, version));
  const storedChecksums = new Map(stored.map((row) => [row.sourcePath, row.pageChecksum]));
  let pagesDone = 0;
  let chunksDone = 0;
  for (const [sourcePath, pageChunks] of pages) {
    if (storedChecksums.get(sourcePath) !== pageChunks[0]?.pageChecksum) {
      const rows: NewDocumentationChunk[] = pageChunks.map((chunk) => ({ ...chunk, version }));
      await db.transaction(async (transaction) => {
        await transaction
          .delete(documentationChunks)
          .where(and(eq(documentationChunks.version, version), inArray(documentationChunks.sourcePath, [sourcePath])));
        for (let start = 0; start < rows.length; start += importRowsPerStatement) {
          await transaction.insert(documentationChunks).values(rows.slice(start, start + importRowsPerStatement));
        }
      });
    }
    pagesDone += 1;
    chunksDone += pageChunks.length;
    options.onProgress?.({ pagesDone, pagesTotal: pages.size, chunksDone });
  }
  const { chunkCount } = await activateDocumentationVersion(db, version);
  return { version, chunks: chunkCount, pages: pages.size };
}
