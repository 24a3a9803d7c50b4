import { count, eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDatabase, type DatabaseHandle } from '../../src/db/client.ts';
import { runMigrations } from '../../src/db/migrate.ts';
import { documentationChunks, documentationVersions } from '../../src/db/schema/documentation-chunks.ts';
import {
  exportDocumentationChunks,
  importDocumentationChunks,
  parseExportedChunks,
} from '../../src/rag/documentation-transfer.ts';
import { getCurrentDocumentationVersion } from '../../src/rag/documentation-versions.ts';
import { type DocumentationPage, readDocumentationFolder } from '../../src/rag/read-documentation-pages.ts';
import { searchDocumentation } from '../../src/rag/search-documentation.ts';
import { seedDocumentation } from '../../src/rag/seed-documentation.ts';
import { documentationFolder } from './corpus.ts';
import { createHashingEmbedder } from './hashing-embedder.ts';

/** Twelve real pages: enough steps of 16 chunks to interrupt a seed halfway, fast with the hashing embedder. */
const pageCount = 12;
const chunksPerStep = 16;

describe('seedDocumentation', () => {
  let allPages: DocumentationPage[];
  let pages: DocumentationPage[];
  let database: DatabaseHandle;

  // Starting PGlite costs seconds, so one in-memory database serves every test and is emptied before each.
  beforeAll(async () => {
    allPages = await readDocumentationFolder(documentationFolder);
    pages = allPages.filter((page) => page.relativePath.startsWith('user/profile/')).slice(0, pageCount);
    database = await createDatabase({ dataDir: 'memory://' });
    await runMigrations(database);
  });

  afterAll(async () => {
    await database?.close();
  });

  beforeEach(async () => {
    // Chunks go with their versions (ON DELETE CASCADE).
    await database.db.delete(documentationVersions);
  });

  async function freshDatabase() {
    await database.db.delete(documentationVersions);
    return database.db;
  }

  const chunkTotal = () => pages.reduce((total, page) => total + page.chunks.length, 0);

  it('stores every chunk, makes the version current, and finds pages by meaning and by words', async () => {
    const db = await freshDatabase();
    const embedder = createHashingEmbedder();
    const result = await seedDocumentation(db, { pages, embedder, origin: 'test', chunksPerStep });
    expect(result).toMatchObject({ chunksDone: chunkTotal(), embedded: chunkTotal(), resumed: false });
    expect(await getCurrentDocumentationVersion(db)).toEqual({
      version: result.version,
      embeddingModel: embedder.model,
    });
    const hits = await searchDocumentation(db, { question: 'forgot my password reset email', embedder });
    expect(hits[0]?.sourcePath).toBe('/doc/user/profile/user_passwords.md');
    expect(hits[0]).toMatchObject({
      url: 'https://docs.gitlab.com/user/profile/user_passwords/',
      title: 'User passwords',
    });
    expect(hits).toHaveLength(4);
  });

  it('re-seeding unchanged pages calls the embedder zero times and swaps to a new version', async () => {
    const db = await freshDatabase();
    const first = await seedDocumentation(db, {
      pages,
      embedder: createHashingEmbedder(),
      origin: 'test',
      chunksPerStep,
    });
    const again = createHashingEmbedder();
    const result = await seedDocumentation(db, { pages, embedder: again, origin: 'test', chunksPerStep });
    expect(again.calls).toHaveLength(0);
    expect(result).toMatchObject({ version: first.version + 1, embedded: 0, reused: chunkTotal() });
    // The old version and its rows are gone; only the current one remains.
    const versions = await db.select().from(documentationVersions);
    expect(versions.map((row) => [row.version, row.status, row.chunkCount])).toEqual([
      [result.version, 'current', chunkTotal()],
    ]);
    const [rows] = await db.select({ rows: count() }).from(documentationChunks);
    expect(rows?.rows).toBe(chunkTotal());
  });

  it('re-embeds only the chunks of a changed page', async () => {
    const db = await freshDatabase();
    await seedDocumentation(db, { pages, embedder: createHashingEmbedder(), origin: 'test', chunksPerStep });
    const [first, ...rest] = pages;
    if (!first) throw new Error('no pages');
    const changedChunk = { ...first.chunks[0]!, content: `${first.chunks[0]!.content}\n\nA new sentence.` };
    const changed: DocumentationPage = {
      ...first,
      pageChecksum: 'changed',
      chunks: [changedChunk, ...first.chunks.slice(1)],
    };
    const embedder = createHashingEmbedder();
    await seedDocumentation(db, { pages: [changed, ...rest], embedder, origin: 'test', chunksPerStep });
    expect(embedder.calls.flat()).toHaveLength(1);
  });

  it('an interrupted seed leaves the previous version serving, and the next run resumes it', async () => {
    const db = await freshDatabase();
    const initial = pages.slice(0, 3);
    const v1 = await seedDocumentation(db, {
      pages: initial,
      embedder: createHashingEmbedder(),
      origin: 'v1',
      chunksPerStep,
    });
    const before = await searchDocumentation(db, {
      question: 'two factor authentication',
      embedder: createHashingEmbedder(),
    });

    const failing = createHashingEmbedder();
    failing.failFromCall = 3;
    await expect(seedDocumentation(db, { pages, embedder: failing, origin: 'v2', chunksPerStep })).rejects.toThrow(
      'embedder failure on call 3',
    );
    expect(await getCurrentDocumentationVersion(db)).toMatchObject({ version: v1.version });
    // Readers see exactly what they saw before: the half-built version 2 is invisible.
    expect(
      await searchDocumentation(db, { question: 'two factor authentication', embedder: createHashingEmbedder() }),
    ).toEqual(before);
    const [partial] = await db
      .select({ rows: count() })
      .from(documentationChunks)
      .where(eq(documentationChunks.version, v1.version + 1));
    expect(partial?.rows).toBeGreaterThan(0);
    expect(partial?.rows).toBeLessThan(chunkTotal());

    const resume = createHashingEmbedder();
    const result = await seedDocumentation(db, { pages, embedder: resume, origin: 'v2', chunksPerStep });
    expect(result).toMatchObject({ version: v1.version + 1, resumed: true, chunksDone: chunkTotal() });
    // Pages stored before the failure, and pages of version 1, are not embedded again.
    const storedBefore = new Set(initial.flatMap((page) => page.chunks.map((chunk) => chunk.content)));
    expect(resume.calls.flat().length).toBeLessThan(chunkTotal() - (partial?.rows ?? 0) + 1);
    expect(resume.calls.flat().some((text) => [...storedBefore].some((content) => text.endsWith(content)))).toBe(false);
    expect(await getCurrentDocumentationVersion(db)).toMatchObject({ version: v1.version + 1 });
    const [rows] = await db.select({ rows: count() }).from(documentationChunks);
    expect(rows?.rows).toBe(chunkTotal());
  });

  it('exports and imports a version with its embeddings', async () => {
    const db = await freshDatabase();
    const embedder = createHashingEmbedder();
    await seedDocumentation(db, { pages, embedder, origin: 'test', chunksPerStep });
    const lines: string[] = [];
    for await (const chunk of exportDocumentationChunks(db)) lines.push(JSON.stringify(chunk));
    expect(lines).toHaveLength(chunkTotal());
    const expected = await searchDocumentation(db, { question: 'delete my account', embedder });

    const target = await freshDatabase();
    const imported = await importDocumentationChunks(target, parseExportedChunks(lines.join('\n')), { origin: 'file' });
    expect(imported).toMatchObject({ chunks: chunkTotal(), pages: pages.length });
    const found = await searchDocumentation(target, { question: 'delete my account', embedder });
    expect(found.map((hit) => [hit.sourcePath, hit.content, hit.similarity])).toEqual(
      expected.map((hit) => [hit.sourcePath, hit.content, hit.similarity]),
    );
  });

  it('returns nothing before the first seed and refuses query vectors of another model', async () => {
    const db = await freshDatabase();
    expect(await searchDocumentation(db, { question: 'password', embedder: createHashingEmbedder() })).toEqual([]);
    await seedDocumentation(db, { pages: pages.slice(0, 1), embedder: createHashingEmbedder(), origin: 't' });
    await expect(
      searchDocumentation(db, { question: 'password', embedder: createHashingEmbedder('other-model') }),
    ).rejects.toThrow(/embedded with test\/hashing-256/);
    const textOnly = await searchDocumentation(db, { question: 'password', mode: 'full-text-only' });
    expect(textOnly.length).toBeGreaterThan(0);
    expect(textOnly[0]?.similarity).toBeUndefined();
  });
});
