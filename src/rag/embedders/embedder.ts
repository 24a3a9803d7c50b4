/** Options every embedder call accepts. */
export interface EmbedOptions {
  /** Aborting stops further batches and cancels in-flight HTTP requests. */
  signal?: AbortSignal;
}

/** Turns texts into vectors with one fixed model; the documentation store pads them to its column width. */
export interface Embedder {
  /**
   * Stored with every row (`embedding_model`). Query vectors are only compared with rows of the same model, so
   * two models never mix in one ranking even when their vectors have the same width.
   */
  readonly model: string;
  /** Width of the vectors this model returns (at most the column's 768). */
  readonly dimensions: number;
  /** One vector per text, in order. */
  embed(texts: string[], options?: EmbedOptions): Promise<number[][]>;
}
