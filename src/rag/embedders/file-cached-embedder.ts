import { createHash } from 'node:crypto';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { Embedder, EmbedOptions } from './embedder.ts';

export interface FileCachedEmbedderOptions {
  /** JSON-lines file of `{ key, vector }`; created on first write. One file per model is clearest. */
  file: string;
}

/** What the cache adds to an embedder: how many texts it answered and how many it passed on. */
export interface FileCachedEmbedder extends Embedder {
  /** Texts answered from the file since creation. */
  readonly hits: number;
  /** Texts sent to the wrapped embedder since creation. */
  readonly misses: number;
}

const cacheLineSchema = z.object({ key: z.string().length(64), vector: z.string().min(1) });

function encodeVector(vector: readonly number[]): string {
  return Buffer.from(new Float32Array(vector).buffer).toString('base64');
}

function decodeVector(encoded: string): number[] {
  const bytes = Buffer.from(encoded, 'base64');
  return Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4));
}

/**
 * Remembers vectors on disk, keyed by SHA-256 of (model, text), so tests and benchmarks that rebuild an
 * in-memory database do not re-run a slow local model. It stores vectors only (float32, as the offline model
 * computes them), never the texts. The database's own checksum reuse makes this unnecessary for real seeds.
 */
export async function createFileCachedEmbedder(
  inner: Embedder,
  options: FileCachedEmbedderOptions,
): Promise<FileCachedEmbedder> {
  const cache = new Map<string, number[]>();
  const existing = await readFile(options.file, 'utf8').catch(() => '');
  for (const line of existing.split('\n')) {
    if (line.trim() === '') continue;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      // A line cut short by an interrupted run: the vector is recomputed.
      continue;
    }
    const parsed = cacheLineSchema.safeParse(json);
    if (parsed.success) cache.set(parsed.data.key, decodeVector(parsed.data.vector));
  }
  let hits = 0;
  let misses = 0;
  const keyOf = (text: string) => createHash('sha256').update(`${inner.model}\u0000${text}`).digest('hex');
  return {
    model: inner.model,
    dimensions: inner.dimensions,
    get hits() {
      return hits;
    },
    get misses() {
      return misses;
    },
    async embed(texts: string[], callOptions: EmbedOptions = {}): Promise<number[][]> {
      const keys = texts.map(keyOf);
      const missing = [...new Set(keys.map((key, index) => (cache.has(key) ? -1 : index)).filter((i) => i >= 0))];
      const missingTexts = missing.map((index) => texts[index] ?? '');
      hits += texts.length - missing.length;
      misses += missing.length;
      if (missingTexts.length > 0) {
        const vectors = await inner.embed(missingTexts, callOptions);
        const lines: string[] = [];
        missing.forEach((textIndex, index) => {
          const key = keys[textIndex] ?? '';
          const vector = vectors[index] ?? [];
          cache.set(key, Array.from(new Float32Array(vector)));
          lines.push(JSON.stringify({ key, vector: encodeVector(vector) }));
        });
        await mkdir(path.dirname(options.file), { recursive: true });
        await appendFile(options.file, `${lines.join('\n')}\n`);
      }
      return keys.map((key) => cache.get(key) ?? []);
    },
  };
}

/** The cache file of `model` inside `directory`, its name made safe for any file system. */
export function embeddingCacheFile(directory: string, model: string): string {
  return path.join(directory, `${model.replace(/[^\w.-]+/g, '_')}.jsonl`);
}
