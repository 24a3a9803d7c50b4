/** Recall at the cut-offs the benchmark reports, and mean reciprocal rank, over a set of questions. */
export interface RetrievalSummary {
  /** Questions evaluated. */
  questions: number;
  /** Share of questions whose first result comes from an expected page. */
  recallAt1: number;
  /** Share with an expected page in the top 4 (what the answer prompt quotes). */
  recallAt4: number;
  /** Share with an expected page in the top 10. */
  recallAt10: number;
  /** Mean of 1/rank of the first relevant chunk (0 when none was found in the list). */
  meanReciprocalRank: number;
}

/** 1-based rank of the first result from an expected page, or `undefined`. Expected paths are relative to `doc/`. */
export function firstRelevantRank(
  results: readonly { sourcePath: string }[],
  expectedSources: readonly string[],
): number | undefined {
  const expected = new Set(expectedSources.map((source) => `/doc/${source.replace(/^\/?(doc\/)?/, '')}`));
  const index = results.findIndex((result) => expected.has(result.sourcePath));
  return index === -1 ? undefined : index + 1;
}

/** Aggregates first-relevant ranks (one per question) into recall@1/4/10 and MRR. */
export function summarizeRetrieval(ranks: readonly (number | undefined)[]): RetrievalSummary {
  const count = ranks.length;
  const recallAt = (cutoff: number) =>
    count === 0 ? 0 : ranks.filter((rank) => rank !== undefined && rank <= cutoff).length / count;
  const reciprocal = ranks.reduce<number>((total, rank) => total + (rank === undefined ? 0 : 1 / rank), 0);
  return {
    questions: count,
    recallAt1: recallAt(1),
    recallAt4: recallAt(4),
    recallAt10: recallAt(10),
    meanReciprocalRank: count === 0 ? 0 : reciprocal / count,
  };
}
