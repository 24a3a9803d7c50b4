import { createHash } from 'node:crypto';
import type { Embedder, EmbedOptions } from '../../src/rag/embedders/embedder.ts';

/** Dimensions of the test embedder: enough buckets that unrelated pages rarely collide, small enough to be fast. */
const hashingDimensions = 256;

export interface HashingEmbedder extends Embedder {
  /** Every text passed to `embed`, one array per call. */
  readonly calls: string[][];
  /** Throws on the call with this 1-based index (and every later one) while set. */
  failFromCall: number | undefined;
}

/** A deterministic bag-of-words embedder (hashed word counts), fast enough to seed real pages in tests. */
export function createHashingEmbedder(model = 'test/hashing-256'): HashingEmbedder {
  const calls: string[][] = [];
  return {
    model,
    dimensions: hashingDimensions,
    calls,
    failFromCall: undefined,
    async embed(texts: string[], _options?: EmbedOptions) {
      calls.push(texts);
      if (this.failFromCall !== undefined && calls.length >= this.failFromCall) {
        throw new Error(`embedder failure on call ${calls.length}`);
      }
      return texts.map((text) => {
        const vector = new Array<number>(hashingDimensions).fill(0);
        for (const word of text.toLowerCase().match(/[a-z0-9]+/g) ?? []) {
          const bucket = createHash('md5').update(word).digest().readUInt16BE(0) % hashingDimensions;
          vector[bucket] = (vector[bucket] ?? 0) + 1;
        }
        return vector;
      });
    },
  };
}
