import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/** GitLab's `MIN_CHARS_PER_EMBEDDING`: shorter pieces carry too little meaning to be worth a vector. */
export const minChunkCharacters = 100;
/** GitLab's `MAX_CHARS_PER_EMBEDDING`: about 400 tokens, well inside every embedding model's input window. */
export const maxChunkCharacters = 1_500;

/**
 * A window boundary at a blank line is preferred when it keeps at least this share of the window; below it, a
 * single newline further on wastes less of the chunk. Half is the usual "don't produce a tiny chunk" compromise.
 */
const preferParagraphBreakAfter = 0.5;

export interface MarkdownChunk {
  /** The chunk's markdown, shortcodes and HTML comments removed. */
  content: string;
  /** Headings enclosing the chunk below the page title, outermost first. */
  headingPath: string[];
  /** Order inside the page, from 0. */
  position: number;
}

export interface ChunkedMarkdown {
  /** Front matter `title`, else the first `#` heading without a trailing `**(TIER)**` badge. */
  title: string;
  /** The YAML front matter as parsed (empty when there is none). */
  metadata: Record<string, unknown>;
  chunks: MarkdownChunk[];
}

export interface ChunkMarkdownOptions {
  /** Pieces shorter than this are merged into a neighbour or dropped; default {@link minChunkCharacters}. */
  minCharacters?: number;
  /** No chunk is longer than this; default {@link maxChunkCharacters}. */
  maxCharacters?: number;
}

const frontMatterSchema = z.record(z.string(), z.unknown());

const frontMatterPattern = /^---\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)/;
const movedStubPattern = /This document was moved to \[?another location/i;
const headingPattern = /^(#{1,6})[ \t]+(.+?)[ \t#]*$/;
const fencePattern = /^[ \t]*(`{3,}|~{3,})/;
const tierBadgePattern = /\s*\*\*\((?:FREE|PREMIUM|ULTIMATE|STARTER|BRONZE|SILVER|GOLD|CORE)[^)]*\)\*\*\s*$/i;
/** Hugo shortcode tags (`{{< details >}}`, `{{< /history >}}`): layout, not prose. */
const shortcodePattern = /\{\{[<%][\s\S]*?[>%]\}\}/g;
const htmlCommentPattern = /<!--[\s\S]*?-->/g;

/** The page is a "moved" stub: front matter `redirect_to`, or a body that only says where the page went. */
export function isMovedPage(metadata: Record<string, unknown>, body: string): boolean {
  if (typeof metadata.redirect_to === 'string' && metadata.redirect_to !== '') return true;
  return movedStubPattern.test(body) && body.replace(htmlCommentPattern, '').trim().length < 400;
}

/** Splits front matter from the body; malformed YAML is treated as no metadata rather than failing the seed. */
export function splitFrontMatter(markdown: string): { metadata: Record<string, unknown>; body: string } {
  const match = frontMatterPattern.exec(markdown);
  if (!match) return { metadata: {}, body: markdown };
  const body = markdown.slice(match[0].length);
  try {
    const parsed = frontMatterSchema.safeParse(parseYaml(match[1] ?? ''));
    return { metadata: parsed.success ? parsed.data : {}, body };
  } catch {
    return { metadata: {}, body };
  }
}

interface Section {
  headingPath: string[];
  text: string;
}

/** Cuts the body into sections at headings outside fenced code blocks, tracking the enclosing heading path. */
function splitSections(body: string): { title: string | undefined; sections: Section[] } {
  const lines = body.split(/\r?\n/);
  const sections: Section[] = [];
  const stack: { level: number; text: string }[] = [];
  let title: string | undefined;
  let current: string[] = [];
  let currentPath: string[] = [];
  let fence: string | undefined;
  const flush = () => {
    const text = current.join('\n').trim();
    if (text !== '') sections.push({ headingPath: currentPath, text });
    current = [];
  };
  for (const line of lines) {
    const fenceMatch = fencePattern.exec(line);
    if (fenceMatch?.[1]) {
      const marker = fenceMatch[1];
      if (fence === undefined) fence = marker;
      else if (marker.startsWith(fence)) fence = undefined;
      current.push(line);
      continue;
    }
    const heading = fence === undefined ? headingPattern.exec(line) : null;
    if (!heading?.[1] || !heading[2]) {
      current.push(line);
      continue;
    }
    const level = heading[1].length;
    const text = heading[2].replace(tierBadgePattern, '').trim();
    if (level === 1 && title === undefined) {
      title = text;
      flush();
      currentPath = [];
      continue;
    }
    flush();
    while (stack.length > 0 && (stack.at(-1)?.level ?? 0) >= level) stack.pop();
    stack.push({ level, text });
    currentPath = stack.map((entry) => entry.text);
    current.push(line);
  }
  flush();
  return { title, sections };
}

/** Where to end a piece that starts at `start`: a blank line, else a newline, else a space, else a hard cut. */
function findCut(text: string, start: number, min: number, max: number): number {
  const windowEnd = start + max;
  if (text.length <= windowEnd) return text.length;
  const window = text.slice(start, windowEnd);
  const paragraph = window.lastIndexOf('\n\n');
  if (paragraph >= Math.max(min, max * preferParagraphBreakAfter)) return start + paragraph;
  const newline = window.lastIndexOf('\n');
  if (newline >= min) return start + newline;
  const space = window.lastIndexOf(' ');
  if (space >= min) return start + space;
  return windowEnd;
}

/** Splits an over-long text at the furthest good break within `max` (GitLab's newline rule, paragraph first). */
function splitLongText(text: string, min: number, max: number): string[] {
  const pieces: string[] = [];
  let start = 0;
  while (start < text.length) {
    const end = findCut(text, start, min, max);
    const piece = text.slice(start, end).trim();
    if (piece !== '') pieces.push(piece);
    start = end;
  }
  return pieces;
}

function cleanBody(body: string): string {
  return body
    .replace(htmlCommentPattern, '')
    .replace(shortcodePattern, '')
    .replace(/\n{3,}/g, '\n\n');
}

/**
 * Chunks one GitLab documentation page: front matter becomes metadata, sections are cut at headings, small
 * sections are merged forward, long ones are split at blank lines or newlines, and every chunk is between
 * `minCharacters` and `maxCharacters` long. Returns `undefined` for moved-page stubs and empty pages.
 */
export function chunkMarkdown(markdown: string, options: ChunkMarkdownOptions = {}): ChunkedMarkdown | undefined {
  const min = options.minCharacters ?? minChunkCharacters;
  const max = options.maxCharacters ?? maxChunkCharacters;
  const { metadata, body } = splitFrontMatter(markdown);
  if (body.trim() === '' || isMovedPage(metadata, body)) return undefined;
  const { title: headingTitle, sections } = splitSections(cleanBody(body));
  const frontMatterTitle = typeof metadata.title === 'string' ? metadata.title.trim() : '';
  const title = frontMatterTitle || headingTitle || '';

  const pieces: Section[] = [];
  let carry = '';
  for (const section of sections) {
    const text = carry === '' ? section.text : `${carry}\n\n${section.text}`;
    if (text.length < min) {
      // A heading with one line under it, or a parent heading right before its first child: keep it as the
      // lead-in of the next section instead of a chunk that says nothing on its own.
      carry = text;
      continue;
    }
    carry = '';
    for (const piece of splitLongText(text, min, max)) pieces.push({ headingPath: section.headingPath, text: piece });
  }
  const last = pieces.at(-1);
  if (carry !== '' && last && last.text.length + carry.length + 2 <= max) last.text = `${last.text}\n\n${carry}`;
  else if (carry !== '' && !last) pieces.push({ headingPath: [], text: carry });

  const chunks: MarkdownChunk[] = [];
  for (let index = 0; index < pieces.length; index += 1) {
    const piece = pieces[index];
    if (!piece || !/\w/.test(piece.text)) continue;
    if (piece.text.length < min) {
      // A short tail of a split section: fold it into the chunk before when that stays under the maximum.
      const previous = chunks.at(-1);
      if (previous && previous.content.length + piece.text.length + 2 <= max) {
        previous.content = `${previous.content}\n\n${piece.text}`;
      }
      continue;
    }
    chunks.push({ content: piece.text, headingPath: piece.headingPath, position: chunks.length });
  }
  return { title, metadata, chunks };
}
