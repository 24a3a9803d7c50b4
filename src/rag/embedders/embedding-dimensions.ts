/**
 * Width of `documentation_chunks.embedding`: GitLab's `vector(768)`, the size every Vertex text-embedding model
 * returns.
 *
 * Dimension scheme: vectors narrower than this are zero-padded at the end. Padding changes neither dot products
 * nor norms, so cosine similarity between two padded vectors equals the similarity of the originals exactly, and
 * the HNSW index (`vector_cosine_ops`) ranks them the same. Padded vectors of one model are never compared with
 * another model's: every row records its `embedding_model` and every query filters on it.
 */
export const storedEmbeddingDimensions = 768;

export class EmbeddingDimensionsError extends Error {
  override name = 'EmbeddingDimensionsError';
}

/** Zero-pads `vector` to {@link storedEmbeddingDimensions}; longer vectors cannot be stored and throw. */
export function toStoredEmbedding(vector: readonly number[]): number[] {
  if (vector.length > storedEmbeddingDimensions) {
    throw new EmbeddingDimensionsError(
      `An embedding of ${vector.length} dimensions does not fit the ${storedEmbeddingDimensions}-dimension column`,
    );
  }
  if (vector.length === storedEmbeddingDimensions) return [...vector];
  const padded = new Array<number>(storedEmbeddingDimensions).fill(0);
  for (let index = 0; index < vector.length; index += 1) padded[index] = vector[index] ?? 0;
  return padded;
}

/** Cosine similarity of two equally long vectors (0 when either is all zeros). */
export function cosineSimilarity(left: readonly number[], right: readonly number[]): number {
  let dot = 0;
  let leftNorm = 0;
  let rightNorm = 0;
  for (let index = 0; index < left.length; index += 1) {
    const a = left[index] ?? 0;
    const b = right[index] ?? 0;
    dot += a * b;
    leftNorm += a * a;
    rightNorm += b * b;
  }
  return leftNorm === 0 || rightNorm === 0 ? 0 : dot / Math.sqrt(leftNorm * rightNorm);
}
