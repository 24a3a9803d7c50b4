import { createHash } from 'node:crypto';

/** What of a chunk is embedded: the page title and heading path give every sub-chunk its context. */
export interface EmbeddingInputParts {
  /** Page title. */
  title: string;
  /** Headings enclosing the chunk, outermost first. */
  headingPath: readonly string[];
  /** The chunk's markdown. */
  content: string;
}

const imagePattern = /!\[[^\]]*\]\([^)]*\)/g;
const linkPattern = /\[([^\]]*)\]\([^)]*\)/g;
const bareUrlPattern = /<?https?:\/\/[^\s>)]+>?/g;

/**
 * The text sent to the embedding model for one chunk: `title`, the heading path, then the content with markdown
 * link targets and images removed. Link targets are long tokens with little meaning (a sentence-encoder spends a
 * third of its input on them in these pages) while the link text carries the meaning.
 */
export function documentationEmbeddingInput(parts: EmbeddingInputParts): string {
  const content = parts.content
    .replace(imagePattern, '')
    .replace(linkPattern, '$1')
    .replace(bareUrlPattern, '')
    .replace(/[ \t]+/g, ' ');
  const heading = parts.headingPath.length > 0 ? `\n${parts.headingPath.join(' > ')}` : '';
  return `${parts.title}${heading}\n\n${content}`.trim();
}

/** SHA-256 of the embedding input: equal checksums under one model mean the stored vector can be reused. */
export function embeddingChecksum(input: string): string {
  return createHash('sha256').update(input).digest('hex');
}
