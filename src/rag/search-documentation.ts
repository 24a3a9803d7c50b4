import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { documentationChunks, documentationVersions } from '../db/schema/documentation-chunks.ts';
import type { Embedder } from './embedders/embedder.ts';
import { toStoredEmbedding } from './embedders/embedding-dimensions.ts';

/** GitLab's `RECORD_LIMIT = 4`: four chunks fit the answer prompt with room for the question. */
export const defaultSearchLimit = 4;

/** Candidates each ranking contributes before fusion: ten times the answer size leaves fusion room to reorder. */
const defaultCandidates = 40;

/**
 * HNSW search breadth (`hnsw.ef_search`), at least the candidate count. pgvector's default 40 found 87% of the
 * exact top 10 on a 50,000-chunk table, 100 found 95% for a few milliseconds more (bench/results/rag.md).
 */
const minimumEfSearch = 100;

/**
 * The RRF constant. The textbook 60 (Cormack et al., SIGIR 2009) flattens the top of both lists; with only 40
 * candidates per list and one list clearly stronger, 10 lets the first few ranks of each list decide. On the 50
 * shared questions k=10 gave MRR 0.765 against 0.727 for k=60 (tuning grid in bench/results/rag.md).
 */
const reciprocalRankFusionK = 10;

/**
 * Weights of the two lists in the fusion, proportional to each list's own MRR on the shared questions with the
 * offline model (vector 0.54, full text 0.75 → 0.7 : 1). A stronger embedding model (Vertex gecko) deserves an
 * equal weight; pass `vectorWeight: 1`.
 */
const defaultVectorWeight = 0.7;
const defaultTextWeight = 1;

/**
 * `ts_rank` normalisation 1 divides by 1 + log(document length), so long chunks do not win just by repeating
 * common words. `ts_rank` rather than `ts_rank_cd`: with an OR query, cover density only counts spans holding
 * query words next to each other, and ranked the answering page in the top 4 for 74% of the shared questions
 * against 86% for `ts_rank`.
 */
const rankNormalization = 1;

export type DocumentationSearchMode = 'hybrid' | 'vector-only' | 'full-text-only';

export interface DocumentationSearchResult {
  /** Row id; the answer prompt cites it as `CNT-IDX-<id>`. */
  id: number;
  /** The chunk's markdown. */
  content: string;
  /** Help page URL of the chunk's page. */
  url: string;
  /** Page title. */
  title: string;
  /** `/doc/…md` path of the page. */
  sourcePath: string;
  /** Headings enclosing the chunk, outermost first. */
  headingPath: string[];
  /** Front matter plus `title`, `source`, `source_type`. */
  metadata: Record<string, unknown>;
  /** The fused score (hybrid), cosine similarity (vector-only) or `ts_rank` (full-text-only); higher is better. */
  score: number;
  /** Cosine similarity to the question, when a query vector was available; the answer step's relevance gate. */
  similarity: number | undefined;
  /** 1-based rank in the vector list, when the chunk was in it. */
  vectorRank: number | undefined;
  /** 1-based rank in the full-text list, when the chunk was in it. */
  textRank: number | undefined;
}

export interface SearchDocumentationOptions {
  /** The user's question, as typed. */
  question: string;
  /** Embeds the question; must be the model the current version was seeded with. Not needed for full-text-only. */
  embedder?: Embedder;
  /** A precomputed question vector (unpadded or padded), instead of calling `embedder`. */
  queryEmbedding?: number[];
  /** Model of `queryEmbedding`; default `embedder.model`. */
  embeddingModel?: string;
  /** Chunks returned; default 4. */
  limit?: number;
  /** `hybrid` (default), or one list alone for comparison. */
  mode?: DocumentationSearchMode;
  /** Candidates per ranking before fusion; default 40. */
  candidates?: number;
  /** Weight of the vector list in the fusion; default 0.7 (tuned for the offline model). */
  vectorWeight?: number;
  /** Weight of the full-text list in the fusion; default 1. */
  textWeight?: number;
  /** Cancels the question's embedding call. */
  signal?: AbortSignal;
}

export class EmbeddingModelMismatchError extends Error {
  override name = 'EmbeddingModelMismatchError';
}

/**
 * Words of the question joined with `or`, for `websearch_to_tsquery`. Its default is AND: a conversational
 * question ("how do i reset my password, i forgot it") rarely has every word in one chunk, so AND finds nothing;
 * OR plus cover-density ranking rewards chunks holding more of the words close together. Stop words are dropped
 * by the `english` configuration.
 */
export function toFullTextQuery(question: string): string {
  const words = question.toLowerCase().match(/[\p{L}\p{N}_]+/gu) ?? [];
  return [...new Set(words.filter((word) => word !== 'or' && word !== 'and'))].join(' or ');
}

interface Ranked {
  id: number;
  rank: number;
  value: number;
}

/** Weighted reciprocal rank fusion: score = Σ weight / (k + rank) over the lists a chunk appears in. */
export function fuseRankings(
  lists: { items: Ranked[]; weight: number }[],
  k: number = reciprocalRankFusionK,
): Map<number, number> {
  const scores = new Map<number, number>();
  for (const list of lists) {
    for (const item of list.items) scores.set(item.id, (scores.get(item.id) ?? 0) + list.weight / (k + item.rank));
  }
  return scores;
}

function vectorLiteral(vector: number[]): string {
  return `[${vector.join(',')}]`;
}

/**
 * Hybrid documentation search over the current version: vector top-k (cosine `<=>`, HNSW) and full-text top-k
 * (`websearch_to_tsquery` + `ts_rank`), fused with weighted reciprocal rank fusion. `vector-only` and
 * `full-text-only` return one ranking alone, for comparison. Returns nothing before the first seed.
 */
export async function searchDocumentation(
  db: Database,
  options: SearchDocumentationOptions,
): Promise<DocumentationSearchResult[]> {
  const mode = options.mode ?? 'hybrid';
  const limit = options.limit ?? defaultSearchLimit;
  const candidates = Math.max(options.candidates ?? defaultCandidates, limit);
  if (options.question.trim() === '') return [];

  let queryVector: number[] | undefined;
  const embeddingModel = options.embeddingModel ?? options.embedder?.model;
  if (mode !== 'full-text-only') {
    const raw =
      options.queryEmbedding ??
      (await options.embedder?.embed([options.question], options.signal ? { signal: options.signal } : {}))?.[0];
    if (!raw || !embeddingModel) throw new EmbeddingModelMismatchError('Vector search needs an embedder or a vector');
    queryVector = toStoredEmbedding(raw);
  }

  return db.transaction(async (transaction) => {
    // One round trip: the current version, plus the HNSW settings for this transaction. ef_search must cover
    // the candidates; iterative scans keep filling the list when other versions' rows (a seed in progress) are
    // filtered out of the index's first answers (pgvector >= 0.8).
    const [current] = await transaction
      .select({
        version: documentationVersions.version,
        embeddingModel: documentationVersions.embeddingModel,
        efSearch: sql<string>`set_config('hnsw.ef_search', ${String(Math.max(candidates, minimumEfSearch))}, true)`,
        iterativeScan: sql<string>`set_config('hnsw.iterative_scan', 'relaxed_order', true)`,
      })
      .from(documentationVersions)
      .where(eq(documentationVersions.status, 'current'))
      .limit(1);
    if (!current) return [];
    if (queryVector && embeddingModel !== current.embeddingModel) {
      throw new EmbeddingModelMismatchError(
        `The documentation was embedded with ${current.embeddingModel}; the question with ${embeddingModel}`,
      );
    }

    let vectorList: Ranked[] = [];
    let textList: Ranked[] = [];
    const literal = queryVector ? vectorLiteral(queryVector) : undefined;
    if (literal) {
      const distance = sql<number>`${documentationChunks.embedding} <=> ${literal}::vector`;
      const rows = await transaction
        .select({ id: documentationChunks.id, distance })
        .from(documentationChunks)
        .where(eq(documentationChunks.version, current.version))
        .orderBy(distance)
        .limit(candidates);
      vectorList = rows
        .sort((left, right) => left.distance - right.distance)
        .map((row, index) => ({ id: row.id, rank: index + 1, value: 1 - row.distance }));
    }
    if (mode !== 'vector-only') {
      const textQuery = toFullTextQuery(options.question);
      if (textQuery !== '') {
        const query = sql`websearch_to_tsquery('english', ${textQuery})`;
        const rank = sql<number>`ts_rank(${documentationChunks.searchVector}, ${query}, ${rankNormalization})`;
        const rows = await transaction
          .select({ id: documentationChunks.id, rank })
          .from(documentationChunks)
          .where(
            and(eq(documentationChunks.version, current.version), sql`${documentationChunks.searchVector} @@ ${query}`),
          )
          .orderBy(sql`${rank} desc`, documentationChunks.id)
          .limit(candidates);
        textList = rows.map((row, index) => ({ id: row.id, rank: index + 1, value: row.rank }));
      }
    }

    let ordered: { id: number; score: number }[];
    if (mode === 'hybrid') {
      const lists = [
        { items: vectorList, weight: options.vectorWeight ?? defaultVectorWeight },
        { items: textList, weight: options.textWeight ?? defaultTextWeight },
      ];
      ordered = [...fuseRankings(lists)].map(([id, score]) => ({ id, score }));
      ordered.sort((left, right) => right.score - left.score || left.id - right.id);
    } else {
      ordered = (mode === 'vector-only' ? vectorList : textList).map((item) => ({ id: item.id, score: item.value }));
    }
    ordered = ordered.slice(0, limit);
    if (ordered.length === 0) return [];

    const similarity = literal
      ? sql<number>`1 - (${documentationChunks.embedding} <=> ${literal}::vector)`
      : sql<null>`null::float8`;
    const rows = await transaction
      .select({
        id: documentationChunks.id,
        content: documentationChunks.content,
        url: documentationChunks.url,
        title: documentationChunks.title,
        sourcePath: documentationChunks.sourcePath,
        headingPath: documentationChunks.headingPath,
        metadata: documentationChunks.metadata,
        similarity,
      })
      .from(documentationChunks)
      .where(
        inArray(
          documentationChunks.id,
          ordered.map((item) => item.id),
        ),
      );
    const byId = new Map(rows.map((row) => [row.id, row]));
    const vectorRanks = new Map(vectorList.map((item) => [item.id, item.rank]));
    const textRanks = new Map(textList.map((item) => [item.id, item.rank]));
    return ordered.flatMap((item) => {
      const row = byId.get(item.id);
      if (!row) return [];
      return [
        {
          ...row,
          similarity: row.similarity === null ? undefined : Number(row.similarity),
          score: item.score,
          vectorRank: vectorRanks.get(item.id),
          textRank: textRanks.get(item.id),
        },
      ];
    });
  });
}
