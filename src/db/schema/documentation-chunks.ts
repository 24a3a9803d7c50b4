import { sql } from 'drizzle-orm';
import {
  bigint,
  customType,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  vector,
} from 'drizzle-orm/pg-core';

/** Postgres `tsvector`; drizzle has no built-in type for it. Read only: the column is generated. */
const tsvector = customType<{ data: string; driverData: string }>({
  dataType() {
    return 'tsvector';
  },
});

/**
 * One row per documentation seed. Exactly one row is `current` at a time (a partial unique index enforces it);
 * readers join through it, so a half-built version is invisible until `activateDocumentationVersion` flips it in
 * one transaction.
 */
export const documentationVersions = pgTable(
  'documentation_versions',
  {
    version: integer('version').primaryKey(),
    /** `building` while a seed inserts rows, `current` for the one readers see, `retired` once replaced. */
    status: text('status', { enum: ['building', 'current', 'retired'] })
      .notNull()
      .default('building'),
    /** The embedding model every row of this version was embedded with; queries must be embedded with the same. */
    embeddingModel: text('embedding_model').notNull(),
    /** Where the pages came from (a folder or an import file), for operators. */
    origin: text('origin').notNull().default(''),
    chunkCount: integer('chunk_count').notNull().default(0),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    activatedAt: timestamp('activated_at', { withTimezone: true }),
  },
  (table) => [
    uniqueIndex('documentation_versions_one_current').on(table.status).where(sql`${table.status} = 'current'`),
  ],
);

/** A chunk of a documentation page with its embedding (GitLab's `vertex_gitlab_docs`, plus full-text search). */
export const documentationChunks = pgTable(
  'documentation_chunks',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    /** The seed this row belongs to; see {@link documentationVersions}. */
    version: integer('version')
      .notNull()
      .references(() => documentationVersions.version, { onDelete: 'cascade' }),
    /** Page path as GitLab records it in `metadata.source`, e.g. `/doc/user/profile/user_passwords.md`. */
    sourcePath: text('source_path').notNull(),
    /** Help page URL of the page the chunk comes from. */
    url: text('url').notNull(),
    /** Page title: front matter `title`, else the first `#` heading. */
    title: text('title').notNull(),
    /** Headings enclosing the chunk, outermost first (`['Change your password']`). */
    headingPath: text('heading_path').array().notNull(),
    /** Order of the chunk inside its page, from 0. */
    position: integer('position').notNull(),
    content: text('content').notNull(),
    /** SHA-256 of the text that was embedded; equal checksum and model means the embedding can be reused. */
    checksum: text('checksum').notNull(),
    /** SHA-256 of the raw page file (GitLab's `md5sum`), so a resumed seed skips pages it already stored. */
    pageChecksum: text('page_checksum').notNull(),
    /** Front matter plus GitLab's `title`, `source`, `source_type`. */
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull(),
    /**
     * 768 = GitLab's `vertex_gitlab_docs.embedding vector(768)`, the width of every Vertex text-embedding model.
     * Narrower models (the offline 512-dim encoder) are zero-padded, which keeps cosine similarity exact
     * (`src/rag/embedders/embedding-dimensions.ts`).
     */
    embedding: vector('embedding', { dimensions: 768 }).notNull(),
    /** Which model produced `embedding`; vectors of different models are never compared. */
    embeddingModel: text('embedding_model').notNull(),
    /** Full-text document for the keyword half of hybrid search. */
    searchVector: tsvector('search_vector')
      .notNull()
      .generatedAlwaysAs(sql`to_tsvector('english', "title" || ' ' || "content")`),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    index('documentation_chunks_embedding_hnsw').using('hnsw', table.embedding.op('vector_cosine_ops')),
    index('documentation_chunks_search_vector_gin').using('gin', table.searchVector),
    index('documentation_chunks_version_source').on(table.version, table.sourcePath, table.position),
    index('documentation_chunks_reuse').on(table.embeddingModel, table.checksum),
  ],
);

export type DocumentationChunk = typeof documentationChunks.$inferSelect;
export type NewDocumentationChunk = typeof documentationChunks.$inferInsert;
export type DocumentationVersion = typeof documentationVersions.$inferSelect;
