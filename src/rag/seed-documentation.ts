import { and, eq, inArray, notInArray, sql } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { documentationChunks, type NewDocumentationChunk } from '../db/schema/documentation-chunks.ts';
import { activateDocumentationVersion, startDocumentationVersion } from './documentation-versions.ts';
import type { Embedder } from './embedders/embedder.ts';
import { toStoredEmbedding } from './embedders/embedding-dimensions.ts';
import { documentationEmbeddingInput, embeddingChecksum } from './embedding-input.ts';
import type { DocumentationPage } from './read-documentation-pages.ts';

/**
 * Chunks per step: one embedder call and one transaction. 64 chunks take a few seconds with the offline model,
 * so an interrupted seed loses little work, and 64 rows of 768 floats stay far below Postgres' bind limits.
 */
const defaultChunksPerStep = 64;

/** Rows per INSERT statement: 64 × ~8 KB of vector text keeps one statement well under a megabyte. */
const insertRowsPerStatement = 64;

/** Progress of a seed, reported after every step. */
export interface SeedProgress {
  /** The version being written. */
  version: number;
  /** Pages stored in this version so far (including ones a resumed run found already stored). */
  pagesDone: number;
  /** Pages in the input. */
  pagesTotal: number;
  /** Chunks stored in this version so far. */
  chunksDone: number;
  /** Chunks in the input. */
  chunksTotal: number;
  /** Texts sent to the embedder so far in this run. */
  embedded: number;
  /** Chunks whose vector was reused from a stored row with the same checksum and model. */
  reused: number;
}

export interface SeedDocumentationOptions {
  /** Chunked pages, from `readDocumentationFolder`. */
  pages: DocumentationPage[];
  /** Embeds chunks whose checksum has no stored vector under `embedder.model`. */
  embedder: Embedder;
  /** Recorded on the version: the folder or file the pages came from. */
  origin: string;
  /** Chunks per embedder call and transaction; default 64. */
  chunksPerStep?: number;
  /** Called after every step (and once before the first). */
  onProgress?: (progress: SeedProgress) => void;
  /** Stops before the next step; stored pages stay for the next run to resume. */
  signal?: AbortSignal;
}

export interface SeedDocumentationResult extends SeedProgress {
  /** True when this run continued an interrupted seed of the same model. */
  resumed: boolean;
}

interface PreparedChunk {
  page: DocumentationPage;
  row: Omit<NewDocumentationChunk, 'embedding'>;
  input: string;
}

function prepareChunks(page: DocumentationPage, version: number, embeddingModel: string): PreparedChunk[] {
  return page.chunks.map((chunk) => {
    const input = documentationEmbeddingInput({
      title: page.title,
      headingPath: chunk.headingPath,
      content: chunk.content,
    });
    return {
      page,
      input,
      row: {
        version,
        sourcePath: page.sourcePath,
        url: page.url,
        title: page.title,
        headingPath: chunk.headingPath,
        position: chunk.position,
        content: chunk.content,
        checksum: embeddingChecksum(input),
        pageChecksum: page.pageChecksum,
        metadata: page.metadata,
        embeddingModel,
      },
    };
  });
}

/** Stored vectors for these checksums under this model, from any version (current, building or older). */
async function findReusableEmbeddings(
  db: Database,
  embeddingModel: string,
  checksums: string[],
): Promise<Map<string, number[]>> {
  if (checksums.length === 0) return new Map();
  const rows = await db
    .selectDistinctOn([documentationChunks.checksum], {
      checksum: documentationChunks.checksum,
      embedding: documentationChunks.embedding,
    })
    .from(documentationChunks)
    .where(
      and(eq(documentationChunks.embeddingModel, embeddingModel), inArray(documentationChunks.checksum, checksums)),
    );
  return new Map(rows.map((row) => [row.checksum, row.embedding]));
}

/** Pages of `version` already stored completely (same page checksum and chunk count), keyed by source path. */
async function findStoredPages(
  db: Database,
  version: number,
): Promise<Map<string, { checksum: string; chunks: number }>> {
  const rows = await db
    .select({
      sourcePath: documentationChunks.sourcePath,
      checksum: sql<string>`min(${documentationChunks.pageChecksum})`,
      chunks: sql<number>`count(*)::int`,
    })
    .from(documentationChunks)
    .where(eq(documentationChunks.version, version))
    .groupBy(documentationChunks.sourcePath);
  return new Map(rows.map((row) => [row.sourcePath, { checksum: row.checksum, chunks: row.chunks }]));
}

/** Groups whole pages into steps of about `chunksPerStep` chunks; a page never spans two transactions. */
function groupPages(pages: DocumentationPage[], chunksPerStep: number): DocumentationPage[][] {
  const groups: DocumentationPage[][] = [];
  let group: DocumentationPage[] = [];
  let size = 0;
  for (const page of pages) {
    if (size > 0 && size + page.chunks.length > chunksPerStep) {
      groups.push(group);
      group = [];
      size = 0;
    }
    group.push(page);
    size += page.chunks.length;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

/**
 * Seeds `pages` as a new documentation version and makes it current once every page is stored (the rake-style
 * `docs:seed`). Rows go into a `building` version that readers never see; an interrupted seed leaves the
 * previous version serving and the next run with the same model resumes it, skipping stored pages. Vectors are
 * reused by checksum from any stored row of the same model, so re-seeding unchanged pages embeds nothing.
 */
export async function seedDocumentation(
  db: Database,
  options: SeedDocumentationOptions,
): Promise<SeedDocumentationResult> {
  const { embedder, pages } = options;
  const { version, resumed } = await startDocumentationVersion(db, {
    embeddingModel: embedder.model,
    origin: options.origin,
  });
  const sources = pages.map((page) => page.sourcePath);
  // A resumed run over a different folder: rows of pages that are no longer in the input must not survive.
  await db
    .delete(documentationChunks)
    .where(
      sources.length > 0
        ? and(eq(documentationChunks.version, version), notInArray(documentationChunks.sourcePath, sources))
        : eq(documentationChunks.version, version),
    );
  const stored = await findStoredPages(db, version);
  const isStored = (page: DocumentationPage) => {
    const entry = stored.get(page.sourcePath);
    return entry?.checksum === page.pageChecksum && entry.chunks === page.chunks.length;
  };
  const pending = pages.filter((page) => !isStored(page));
  const progress: SeedProgress = {
    version,
    pagesDone: pages.length - pending.length,
    pagesTotal: pages.length,
    chunksDone: pages.filter(isStored).reduce((total, page) => total + page.chunks.length, 0),
    chunksTotal: pages.reduce((total, page) => total + page.chunks.length, 0),
    embedded: 0,
    reused: 0,
  };
  options.onProgress?.({ ...progress });

  for (const group of groupPages(pending, options.chunksPerStep ?? defaultChunksPerStep)) {
    options.signal?.throwIfAborted();
    const prepared = group.flatMap((page) => prepareChunks(page, version, embedder.model));
    const checksums = [...new Set(prepared.map((chunk) => chunk.row.checksum))];
    const vectors = await findReusableEmbeddings(db, embedder.model, checksums);
    const missing = new Map<string, string>();
    for (const chunk of prepared) if (!vectors.has(chunk.row.checksum)) missing.set(chunk.row.checksum, chunk.input);
    if (missing.size > 0) {
      const embedded = await embedder.embed([...missing.values()], options.signal ? { signal: options.signal } : {});
      [...missing.keys()].forEach((checksum, index) => {
        vectors.set(checksum, toStoredEmbedding(embedded[index] ?? []));
      });
    }
    const rows: NewDocumentationChunk[] = prepared.map((chunk) => ({
      ...chunk.row,
      embedding: vectors.get(chunk.row.checksum) ?? [],
    }));
    await db.transaction(async (transaction) => {
      // Idempotent per page (GitLab's per-file worker does the same): a half-written page from a crash is replaced.
      await transaction.delete(documentationChunks).where(
        and(
          eq(documentationChunks.version, version),
          inArray(
            documentationChunks.sourcePath,
            group.map((page) => page.sourcePath),
          ),
        ),
      );
      for (let start = 0; start < rows.length; start += insertRowsPerStatement) {
        await transaction.insert(documentationChunks).values(rows.slice(start, start + insertRowsPerStatement));
      }
    });
    progress.pagesDone += group.length;
    progress.chunksDone += prepared.length;
    progress.embedded += missing.size;
    progress.reused += prepared.length - missing.size;
    options.onProgress?.({ ...progress });
  }

  await activateDocumentationVersion(db, version);
  return { ...progress, resumed };
}
