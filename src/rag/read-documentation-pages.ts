import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { type ChunkMarkdownOptions, chunkMarkdown, type MarkdownChunk } from './chunk-markdown.ts';

/** Where links point by default: the public docs site, which serves `doc/<path>.md` at `<path>/`. */
export const defaultDocumentationBaseUrl = 'https://docs.gitlab.com';

/** Files in a docs folder that are not documentation pages (the corpus' licence notice). */
const ignoredFileNames = new Set(['NOTICE.md']);

export interface DocumentationPage {
  /** Path under `doc/`, with forward slashes: `user/profile/user_passwords.md`. */
  relativePath: string;
  /** GitLab's `metadata.source`: `/doc/user/profile/user_passwords.md`. */
  sourcePath: string;
  /** Help page URL: `https://docs.gitlab.com/user/profile/user_passwords/`. */
  url: string;
  /** Front matter `title`, else the first heading, else the path. */
  title: string;
  /** Front matter plus GitLab's `title`, `source` and `source_type: 'doc'`. */
  metadata: Record<string, unknown>;
  /** SHA-256 of the raw file, so a resumed or repeated seed recognises pages it has already stored. */
  pageChecksum: string;
  /** The page's chunks in order. */
  chunks: MarkdownChunk[];
}

export interface ReadDocumentationOptions extends ChunkMarkdownOptions {
  /** Prefix of page URLs; default {@link defaultDocumentationBaseUrl}. */
  baseUrl?: string;
}

/** `user/_index.md` → `<base>/user/`, `user/ssh.md` → `<base>/user/ssh/` (the docs site's layout). */
export function documentationUrl(relativePath: string, baseUrl: string = defaultDocumentationBaseUrl): string {
  const withoutExtension = relativePath.replace(/\.md$/, '');
  const page = withoutExtension.replace(/(^|\/)_?index$/, '');
  const trimmedBase = baseUrl.replace(/\/+$/, '');
  return page === '' ? `${trimmedBase}/` : `${trimmedBase}/${page}/`;
}

/** Chunks one page; `undefined` for moved stubs, empty pages and pages with no chunk long enough to keep. */
export function documentationPageFromMarkdown(
  relativePath: string,
  markdown: string,
  options: ReadDocumentationOptions = {},
): DocumentationPage | undefined {
  const chunked = chunkMarkdown(markdown, options);
  if (!chunked || chunked.chunks.length === 0) return undefined;
  const sourcePath = `/doc/${relativePath}`;
  const title = chunked.title || relativePath;
  return {
    relativePath,
    sourcePath,
    url: documentationUrl(relativePath, options.baseUrl),
    title,
    metadata: { ...chunked.metadata, title, source: sourcePath, source_type: 'doc' },
    pageChecksum: createHash('sha256').update(markdown).digest('hex'),
    chunks: chunked.chunks,
  };
}

async function listMarkdownFiles(folder: string, prefix = ''): Promise<string[]> {
  const entries = await readdir(path.join(folder, prefix), { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries) {
    const relative = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) files.push(...(await listMarkdownFiles(folder, relative)));
    else if (entry.isFile() && entry.name.endsWith('.md') && !ignoredFileNames.has(entry.name)) files.push(relative);
  }
  return files;
}

/** Reads and chunks every `.md` page under `folder` (recursively), sorted by path so seeds are deterministic. */
export async function readDocumentationFolder(
  folder: string,
  options: ReadDocumentationOptions = {},
): Promise<DocumentationPage[]> {
  const files = (await listMarkdownFiles(folder)).sort();
  const pages: DocumentationPage[] = [];
  for (const relativePath of files) {
    const markdown = await readFile(path.join(folder, relativePath), 'utf8');
    const page = documentationPageFromMarkdown(relativePath, markdown, options);
    if (page) pages.push(page);
  }
  return pages;
}
