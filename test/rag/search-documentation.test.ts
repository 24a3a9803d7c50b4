import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, type DatabaseHandle } from '../../src/db/client.ts';
import { runMigrations } from '../../src/db/migrate.ts';
import { planDocumentationAnswer } from '../../src/rag/documentation-answer.ts';
import type { Embedder } from '../../src/rag/embedders/embedder.ts';
import { createFileCachedEmbedder, embeddingCacheFile } from '../../src/rag/embedders/file-cached-embedder.ts';
import { createOfflineEmbedder } from '../../src/rag/embedders/offline-embedder.ts';
import { readDocumentationFolder } from '../../src/rag/read-documentation-pages.ts';
import { firstRelevantRank, type RetrievalSummary, summarizeRetrieval } from '../../src/rag/retrieval-metrics.ts';
import {
  type DocumentationSearchMode,
  searchDocumentation,
  toFullTextQuery,
} from '../../src/rag/search-documentation.ts';
import { seedDocumentation } from '../../src/rag/seed-documentation.ts';
import {
  type DocumentationQuestion,
  documentationFolder,
  embeddingCacheDirectory,
  readDocumentationQuestions,
} from './corpus.ts';

/**
 * The offline model needs 0.15–0.3 s per chunk on a 2-core machine, about 8–10 minutes for the 2,579 chunks of
 * the corpus. Vectors are cached under tmp/embedding-cache (vectors only), so only the first run on a machine
 * pays for it; later runs seed from the cache in well under a minute.
 */
const coldSeedTimeout = 15 * 60_000;

const modes: DocumentationSearchMode[] = ['hybrid', 'vector-only', 'full-text-only'];

describe('searchDocumentation on the real corpus with the offline embedder', () => {
  let database: DatabaseHandle;
  let embedder: Embedder;
  let questions: DocumentationQuestion[];
  const summaries = new Map<DocumentationSearchMode, RetrievalSummary>();

  beforeAll(async () => {
    embedder = await createFileCachedEmbedder(createOfflineEmbedder(), {
      file: embeddingCacheFile(embeddingCacheDirectory, createOfflineEmbedder().model),
    });
    const pages = await readDocumentationFolder(documentationFolder);
    database = await createDatabase({ dataDir: 'memory://' });
    await runMigrations(database);
    await seedDocumentation(database.db, { pages, embedder, origin: documentationFolder });
    questions = await readDocumentationQuestions();
    const vectors = await embedder.embed(questions.map((question) => question.question));
    for (const mode of modes) {
      const ranks: (number | undefined)[] = [];
      for (const [index, question] of questions.entries()) {
        const results = await searchDocumentation(database.db, {
          question: question.question,
          queryEmbedding: vectors[index] ?? [],
          embeddingModel: embedder.model,
          mode,
          limit: 10,
        });
        ranks.push(firstRelevantRank(results, question.expected_sources));
      }
      summaries.set(mode, summarizeRetrieval(ranks));
    }
  }, coldSeedTimeout);

  afterAll(async () => {
    await database?.close();
  });

  it('finds an answering page in the top 4 for at least 80% of the questions (hybrid)', () => {
    expect(questions).toHaveLength(50);
    expect(summaries.get('hybrid')?.recallAt4).toBeGreaterThanOrEqual(0.8);
  });

  it('hybrid beats vector-only and full-text-only', () => {
    const hybrid = summaries.get('hybrid');
    for (const single of ['vector-only', 'full-text-only'] as const) {
      const other = summaries.get(single);
      expect(hybrid?.recallAt4).toBeGreaterThanOrEqual(other?.recallAt4 ?? 1);
      expect(hybrid?.meanReciprocalRank).toBeGreaterThan(other?.meanReciprocalRank ?? 1);
    }
  });

  it('returns chunks with url, title, source path, heading path and scores', async () => {
    const hits = await searchDocumentation(database.db, {
      question: 'how do i reset my password, i forgot it',
      embedder,
    });
    expect(hits).toHaveLength(4);
    const hit = hits.find((candidate) => candidate.sourcePath === '/doc/user/profile/user_passwords.md');
    expect(hit).toMatchObject({ url: 'https://docs.gitlab.com/user/profile/user_passwords/', title: 'User passwords' });
    expect(hit?.headingPath.length).toBeGreaterThan(0);
    expect(hit?.similarity).toBeGreaterThan(0.35);
    for (const [index, candidate] of hits.entries()) {
      expect(candidate.score).toBeGreaterThan(0);
      expect(candidate.score).toBeLessThanOrEqual(hits[index - 1]?.score ?? Number.POSITIVE_INFINITY);
      expect(typeof candidate.similarity).toBe('number');
    }
  });

  it('answers off-topic questions with the fixed text and quotes documentation for real ones', async () => {
    for (const question of ['What is the capital of France?', 'Write a poem about my cat']) {
      const results = await searchDocumentation(database.db, { question, embedder });
      expect(planDocumentationAnswer({ question, results }).kind).toBe('empty');
    }
    const question = 'How do I fork a project?';
    const plan = planDocumentationAnswer({
      question,
      results: await searchDocumentation(database.db, { question, embedder }),
    });
    expect(plan.kind).toBe('prompt');
    if (plan.kind === 'prompt') {
      expect(plan.chunks.map((chunk) => chunk.sourcePath)).toContain(
        '/doc/user/project/repository/forking_workflow.md',
      );
    }
  });

  it('turns a question into an OR full-text query', () => {
    expect(toFullTextQuery("can i force push to main? it's rejected")).toBe(
      'can or i or force or push or to or main or it or s or rejected',
    );
  });
});
