// `npm run bench:rag [-- --synthetic-size 50000 --output bench/results/rag.md]`: retrieval quality (recall@1/4/10,
// MRR) per search mode on the real corpus, seeding throughput with the offline embedder, query latency on the
// real corpus and on a synthetic table, and HNSW recall@10 against an exact scan. Prints markdown to stdout and
// writes it to --output.
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import { createDatabase, type DatabaseHandle } from '../src/db/client.ts';
import { runMigrations } from '../src/db/migrate.ts';
import {
  documentationChunks,
  documentationVersions,
  type NewDocumentationChunk,
} from '../src/db/schema/documentation-chunks.ts';
import { defaultMinSimilarity } from '../src/rag/documentation-answer.ts';
import { cosineSimilarity, toStoredEmbedding } from '../src/rag/embedders/embedding-dimensions.ts';
import { createFileCachedEmbedder, embeddingCacheFile } from '../src/rag/embedders/file-cached-embedder.ts';
import { createOfflineEmbedder } from '../src/rag/embedders/offline-embedder.ts';
import { documentationEmbeddingInput } from '../src/rag/embedding-input.ts';
import { readDocumentationFolder } from '../src/rag/read-documentation-pages.ts';
import { firstRelevantRank, summarizeRetrieval } from '../src/rag/retrieval-metrics.ts';
import { type DocumentationSearchMode, searchDocumentation } from '../src/rag/search-documentation.ts';
import { seedDocumentation } from '../src/rag/seed-documentation.ts';
import { documentationFolder, embeddingCacheDirectory, readDocumentationQuestions } from '../test/rag/corpus.ts';

const { values } = parseArgs({
  options: {
    // The issue's target size; pass a smaller one when a 2-core machine cannot build it in a few minutes.
    'synthetic-size': { type: 'string', default: '50000' },
    output: { type: 'string', default: 'bench/results/rag.md' },
  },
});
const syntheticSize = Number(values['synthetic-size']);
/** Uncached chunks embedded to measure the offline model's own speed: enough for a stable mean, ~30 s. */
const embedSampleSize = 128;
/** Off-topic questions: the relevance threshold must reject them. */
const offTopicQuestions = [
  'What is the capital of France?',
  'Write a poem about my cat',
  'What is the boiling point of water at sea level?',
  'Recommend a good pasta recipe',
  'Who won the football world cup in 2014?',
  'How tall is Mount Everest?',
];
/** Questions timed per mode in the synthetic run (each of the 50 real questions, several times). */
const latencyRounds = 3;
/**
 * Synthetic vectors mix two real chunk vectors (70 % / 30 %) plus Gaussian noise of this total norm, so the
 * table has real-looking topic structure without clusters of near-identical copies whose top-10 is a tie.
 */
const syntheticNoise = 0.1;
const syntheticMainShare = 0.7;
/** Rows per INSERT while loading the synthetic table, as in the seed. */
const syntheticInsertBatch = 500;

const log = (message: string) => process.stderr.write(`${message}\n`);
const lines: string[] = [];
const out = (line = '') => {
  lines.push(line);
  process.stdout.write(`${line}\n`);
};

function percentile(samples: number[], fraction: number): number {
  const sorted = [...samples].sort((left, right) => left - right);
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] ?? Number.NaN;
}

const format = (value: number, digits = 2) => value.toFixed(digits);

async function timeQueries(
  database: DatabaseHandle,
  questions: { question: string; vector: number[] }[],
  mode: DocumentationSearchMode,
  model: string,
  rounds: number,
): Promise<number[]> {
  const samples: number[] = [];
  for (let round = 0; round < rounds; round += 1) {
    for (const { question, vector } of questions) {
      const started = performance.now();
      await searchDocumentation(database.db, {
        question,
        queryEmbedding: vector,
        embeddingModel: model,
        mode,
        limit: 4,
      });
      samples.push(performance.now() - started);
    }
  }
  return samples;
}

/** A deterministic normal sample (Box–Muller over a small LCG), so synthetic tables are identical across runs. */
function createNoise(seed: number): () => number {
  let state = seed >>> 0;
  const uniform = () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return (state + 1) / 4_294_967_297;
  };
  return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
}

async function main() {
  const offline = createOfflineEmbedder();
  const embedder = await createFileCachedEmbedder(offline, {
    file: embeddingCacheFile(embeddingCacheDirectory, offline.model),
  });
  const pages = await readDocumentationFolder(documentationFolder);
  const chunkCount = pages.reduce((total, page) => total + page.chunks.length, 0);
  const questions = await readDocumentationQuestions();

  out('# Documentation search benchmark');
  out();
  out(
    `Run ${new Date().toISOString()} on ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, PGlite (WASM) in memory.`,
  );
  out(`Corpus: ${pages.length} pages, ${chunkCount} chunks; ${questions.length} questions from doc-questions.jsonl.`);
  out();

  // 1. The offline model's own speed, on chunks it has not seen (a fresh embedder, no cache).
  log('Measuring offline embedding speed…');
  const sample = pages
    .flatMap((page) =>
      page.chunks.map((chunk) =>
        documentationEmbeddingInput({ title: page.title, headingPath: chunk.headingPath, content: chunk.content }),
      ),
    )
    .filter((_, index) => index % Math.max(1, Math.floor(chunkCount / embedSampleSize)) === 0)
    .slice(0, embedSampleSize);
  await offline.embed(['warm up']);
  let started = performance.now();
  await offline.embed(sample);
  const embedSeconds = (performance.now() - started) / 1_000;
  const embedRate = sample.length / embedSeconds;

  // 2. Seeding: vectors from the cache (computed by earlier runs), so this measures chunk + store + index.
  log('Seeding the corpus (vectors cached after the first run)…');
  const database = await createDatabase({ dataDir: 'memory://' });
  await runMigrations(database);
  const missesBefore = embedder.misses;
  started = performance.now();
  await seedDocumentation(database.db, { pages, embedder, origin: documentationFolder });
  const seedSeconds = (performance.now() - started) / 1_000;
  const seedMisses = embedder.misses - missesBefore;
  started = performance.now();
  const reseed = await seedDocumentation(database.db, { pages, embedder, origin: documentationFolder });
  const reseedSeconds = (performance.now() - started) / 1_000;

  out('## Seeding throughput (offline embedder)');
  out();
  out('| step | chunks | seconds | chunks/s |');
  out('|---|---:|---:|---:|');
  out(
    `| offline model alone (USE-lite, WASM, ${sample.length} uncached chunks) | ${sample.length} | ${format(embedSeconds, 1)} | ${format(embedRate, 1)} |`,
  );
  out(
    `| seed into PGlite, vectors from file cache (${seedMisses} embedded) | ${chunkCount} | ${format(seedSeconds, 1)} | ${format(chunkCount / seedSeconds, 1)} |`,
  );
  out(
    `| re-seed unchanged corpus (${reseed.embedded} embedded, ${reseed.reused} reused by checksum) | ${chunkCount} | ${format(reseedSeconds, 1)} | ${format(chunkCount / reseedSeconds, 1)} |`,
  );
  const coldSeconds = chunkCount / embedRate + seedSeconds;
  out(
    `| cold seed end to end (model alone + store, estimated) | ${chunkCount} | ${format(coldSeconds, 0)} | ${format(chunkCount / coldSeconds, 1)} |`,
  );
  out();

  // 3. Quality per mode.
  log('Evaluating retrieval…');
  started = performance.now();
  const questionVectors = await offline.embed(questions.map((question) => question.question));
  const questionEmbedMs = (performance.now() - started) / questions.length;
  const withVectors = questions.map((question, index) => ({ ...question, vector: questionVectors[index] ?? [] }));
  const modes: DocumentationSearchMode[] = ['vector-only', 'full-text-only', 'hybrid'];
  out('## Retrieval quality on the real corpus (50 questions, a hit = a chunk of an expected page)');
  out();
  out('| mode | recall@1 | recall@4 | recall@10 | MRR |');
  out('|---|---:|---:|---:|---:|');
  for (const mode of modes) {
    const ranks: (number | undefined)[] = [];
    for (const question of withVectors) {
      const results = await searchDocumentation(database.db, {
        question: question.question,
        queryEmbedding: question.vector,
        embeddingModel: embedder.model,
        mode,
        limit: 10,
      });
      ranks.push(firstRelevantRank(results, question.expected_sources));
    }
    const summary = summarizeRetrieval(ranks);
    out(
      `| ${mode} | ${format(summary.recallAt1)} | ${format(summary.recallAt4)} | ${format(summary.recallAt10)} | ${format(summary.meanReciprocalRank, 3)} |`,
    );
  }
  out();

  // 4. Relevance threshold evidence: best similarity for real vs off-topic questions.
  const bestSimilarity = async (question: string, vector: number[]) =>
    (
      await searchDocumentation(database.db, {
        question,
        queryEmbedding: vector,
        embeddingModel: embedder.model,
        mode: 'vector-only',
        limit: 1,
      })
    )[0]?.similarity ?? 0;
  const realBest: number[] = [];
  for (const question of withVectors) realBest.push(await bestSimilarity(question.question, question.vector));
  const offTopicVectors = await offline.embed(offTopicQuestions);
  const offTopicBest: number[] = [];
  for (const [index, question] of offTopicQuestions.entries()) {
    offTopicBest.push(await bestSimilarity(question, offTopicVectors[index] ?? []));
  }
  out('## Relevance threshold (best cosine similarity of any chunk)');
  out();
  out('| questions | min | p10 | median | max |');
  out('|---|---:|---:|---:|---:|');
  out(
    `| 50 real questions | ${format(Math.min(...realBest))} | ${format(percentile(realBest, 0.1))} | ${format(percentile(realBest, 0.5))} | ${format(Math.max(...realBest))} |`,
  );
  out(
    `| ${offTopicQuestions.length} off-topic questions | ${format(Math.min(...offTopicBest))} | ${format(percentile(offTopicBest, 0.1))} | ${format(percentile(offTopicBest, 0.5))} | ${format(Math.max(...offTopicBest))} |`,
  );
  out();
  out(
    `Threshold in use: ${defaultMinSimilarity}. Real questions below it: ${realBest.filter((value) => value < defaultMinSimilarity).length}; off-topic questions at or above it: ${offTopicBest.filter((value) => value >= defaultMinSimilarity).length}.`,
  );
  out();

  // 5. Latency on the real corpus.
  log('Timing queries on the real corpus…');
  out(
    `## Query latency (ms, database only; embedding a question with the offline model adds ${format(questionEmbedMs, 0)} ms)`,
  );
  out();
  out('| table | mode | queries | p50 | p99 |');
  out('|---|---|---:|---:|---:|');
  for (const mode of modes) {
    const samples = await timeQueries(database, withVectors, mode, embedder.model, latencyRounds);
    out(
      `| real corpus (${chunkCount} chunks) | ${mode} | ${samples.length} | ${format(percentile(samples, 0.5))} | ${format(percentile(samples, 0.99))} |`,
    );
  }
  const realPlan = await database.pglite?.query<{ 'QUERY PLAN': string }>(
    `explain select id from documentation_chunks where version = ${reseed.version} order by embedding <=> '[${toStoredEmbedding(withVectors[0]?.vector ?? []).join(',')}]'::vector limit 40`,
  );
  out();
  out(
    `Vector plan on the real corpus: \`${realPlan?.rows.map((row) => row['QUERY PLAN'].trim().replace(/'\[[^\]]*\]'/g, "'[…]'")).join(' → ') ?? 'n/a'}\`.`,
  );
  out();
  const realVectors = await database.db.select({ embedding: documentationChunks.embedding }).from(documentationChunks);
  await database.close();

  // 6. Synthetic table: real vectors plus noise, so neighbourhoods look like real ones (uniformly random
  // 768-dimension vectors would have no near neighbours at all and say nothing about HNSW on real data).
  log(`Building a synthetic table of ${syntheticSize} chunks…`);
  const synthetic = await createDatabase({ dataDir: 'memory://' });
  await runMigrations(synthetic);
  await synthetic.db
    .insert(documentationVersions)
    .values({ version: 1, embeddingModel: embedder.model, status: 'current' });
  // Bulk load first, then build the index once: pgvector's documented fast path for large loads.
  await synthetic.db.execute(sql`drop index documentation_chunks_embedding_hnsw`);
  const noise = createNoise(42);
  const base = realVectors.map((row) => row.embedding.slice(0, offline.dimensions));
  const syntheticVectors: number[][] = [];
  started = performance.now();
  for (let start = 0; start < syntheticSize; start += syntheticInsertBatch) {
    const rows: NewDocumentationChunk[] = [];
    for (let index = start; index < Math.min(syntheticSize, start + syntheticInsertBatch); index += 1) {
      const origin = base[index % base.length] ?? [];
      const other = base[Math.floor(Math.abs(noise() * 7_919 * (index + 1))) % base.length] ?? origin;
      const noisy = origin.map(
        (value, dimension) =>
          syntheticMainShare * value +
          (1 - syntheticMainShare) * (other[dimension] ?? 0) +
          (noise() * syntheticNoise) / Math.sqrt(origin.length),
      );
      const norm = Math.hypot(...noisy);
      const vector = noisy.map((value) => value / norm);
      syntheticVectors.push(vector);
      rows.push({
        version: 1,
        sourcePath: `/doc/synthetic/${index}.md`,
        url: `https://docs.gitlab.com/synthetic/${index}/`,
        title: `Synthetic ${index}`,
        headingPath: [],
        position: 0,
        content: `synthetic chunk ${index} about topic ${index % 97}`,
        checksum: String(index),
        pageChecksum: String(index),
        metadata: {},
        embedding: toStoredEmbedding(vector),
        embeddingModel: embedder.model,
      });
    }
    await synthetic.db.insert(documentationChunks).values(rows);
    if ((start / syntheticInsertBatch) % 10 === 0) log(`  ${start + rows.length}/${syntheticSize} rows`);
  }
  const loadSeconds = (performance.now() - started) / 1_000;
  started = performance.now();
  await synthetic.db.execute(sql`set maintenance_work_mem = '512MB'`);
  await synthetic.db.execute(
    sql`create index documentation_chunks_embedding_hnsw on documentation_chunks using hnsw (embedding vector_cosine_ops)`,
  );
  const indexSeconds = (performance.now() - started) / 1_000;
  await synthetic.db.execute(sql`analyze documentation_chunks`);

  log('Measuring HNSW recall against an exact scan…');
  const exactTopTen = withVectors.map((question) =>
    syntheticVectors
      .map((vector, index) => ({ index, similarity: cosineSimilarity(vector, question.vector) }))
      .sort((left, right) => right.similarity - left.similarity)
      .slice(0, 10)
      .map((item) => `/doc/synthetic/${item.index}.md`),
  );
  const recallByEfSearch = new Map<number, number>();
  // searchDocumentation sets ef_search = max(candidates, 100); 200 and 400 show what more breadth buys.
  for (const efSearch of [100, 200, 400]) {
    let found = 0;
    let expected = 0;
    for (const [index, question] of withVectors.entries()) {
      const results = await searchDocumentation(synthetic.db, {
        question: question.question,
        queryEmbedding: question.vector,
        embeddingModel: embedder.model,
        mode: 'vector-only',
        limit: 10,
        candidates: efSearch,
      });
      const returned = new Set(results.map((result) => result.sourcePath));
      const exact = exactTopTen[index] ?? [];
      found += exact.filter((source) => returned.has(source)).length;
      expected += exact.length;
    }
    recallByEfSearch.set(efSearch, found / expected);
  }
  const explained = await synthetic.pglite?.query<{ 'QUERY PLAN': string }>(
    `explain select id from documentation_chunks where version = 1 order by embedding <=> '[${toStoredEmbedding(withVectors[0]?.vector ?? []).join(',')}]'::vector limit 10`,
  );
  const plan = explained?.rows.map((row) => row['QUERY PLAN'].trim().replace(/'\[[^\]]*\]'/g, "'[…]'")).join(' → ');

  out(
    `## Synthetic table (${syntheticSize} chunks: 0.7 × a real vector + 0.3 × another + noise of norm ${syntheticNoise})`,
  );
  out();
  out(
    `Load ${format(loadSeconds, 1)} s (${format(syntheticSize / loadSeconds, 0)} rows/s), HNSW build ${format(indexSeconds, 1)} s (m=16, ef_construction=64 defaults). Plan: \`${plan ?? 'n/a'}\`.`,
  );
  out();
  out(
    `HNSW recall@10 vs exact scan over ${withVectors.length} questions: ${[...recallByEfSearch].map(([efSearch, recall]) => `ef_search=${efSearch} **${format(recall, 3)}**`).join(', ')} (the search uses 100).`,
  );
  out();
  out('| table | mode | queries | p50 | p99 |');
  out('|---|---|---:|---:|---:|');
  for (const mode of modes) {
    const samples = await timeQueries(synthetic, withVectors, mode, embedder.model, latencyRounds);
    out(
      `| synthetic (${syntheticSize} chunks) | ${mode} | ${samples.length} | ${format(percentile(samples, 0.5))} | ${format(percentile(samples, 0.99))} |`,
    );
  }
  out();
  await synthetic.close();
  await writeFile(values.output, `${lines.join('\n')}\n`);
  log(`Wrote ${values.output}`);
}

await main();
