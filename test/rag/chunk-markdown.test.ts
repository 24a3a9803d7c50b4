import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { chunkMarkdown, maxChunkCharacters, minChunkCharacters } from '../../src/rag/chunk-markdown.ts';
import {
  type DocumentationPage,
  documentationUrl,
  readDocumentationFolder,
} from '../../src/rag/read-documentation-pages.ts';
import { documentationFolder } from './corpus.ts';

describe('chunkMarkdown on the real corpus', () => {
  let pages: DocumentationPage[];
  beforeAll(async () => {
    pages = await readDocumentationFolder(documentationFolder);
  });

  it('reads all 150 pages and skips the NOTICE', () => {
    expect(pages).toHaveLength(150);
    expect(pages.some((page) => page.relativePath.endsWith('NOTICE.md'))).toBe(false);
  });

  it('keeps every chunk between 100 and 1,500 characters', () => {
    const sizes = pages.flatMap((page) => page.chunks.map((chunk) => chunk.content.length));
    expect(sizes.length).toBeGreaterThan(1_000);
    expect(Math.min(...sizes)).toBeGreaterThanOrEqual(minChunkCharacters);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(maxChunkCharacters);
  });

  it('takes the title from front matter and keeps the heading path with each chunk', () => {
    const page = pages.find((candidate) => candidate.relativePath === 'user/profile/user_passwords.md');
    expect(page?.title).toBe('User passwords');
    expect(page?.sourcePath).toBe('/doc/user/profile/user_passwords.md');
    expect(page?.url).toBe('https://docs.gitlab.com/user/profile/user_passwords/');
    expect(page?.metadata).toMatchObject({ group: 'Authentication', source_type: 'doc', title: 'User passwords' });
    const reset = page?.chunks.find((chunk) => chunk.headingPath.at(-1) === 'Reset your password');
    expect(reset?.content).toContain('Forgot your password?');
    expect(page?.chunks.map((chunk) => chunk.position)).toEqual(page?.chunks.map((_, index) => index));
    // Hugo shortcodes are layout, not content.
    expect(page?.chunks.some((chunk) => chunk.content.includes('{{<'))).toBe(false);
  });

  it('takes the title from the first heading on old pages without a front matter title', async () => {
    const markdown = await readFile(path.join(documentationFolder, 'user/profile/active_sessions.md'), 'utf8');
    expect(chunkMarkdown(markdown)?.title).toBe('Active Sessions');
    const page = pages.find((candidate) => candidate.relativePath === 'user/project/settings/import_export.md');
    expect(page?.title).toBe('Project import/export');
  });

  it('nests heading paths and ignores # lines inside code blocks', () => {
    const markdown = [
      '# Guide **(FREE)**',
      '',
      '## Install',
      '',
      'Install the thing with a long enough sentence so that this section stands on its own as a chunk here.',
      '',
      '### On Linux',
      '',
      '```shell',
      '# not a heading',
      'apt-get install thing && echo "this code block is part of the Linux section of the guide"',
      '```',
    ].join('\n');
    const chunked = chunkMarkdown(markdown);
    expect(chunked?.title).toBe('Guide');
    expect(chunked?.chunks.map((chunk) => chunk.headingPath)).toEqual([['Install'], ['Install', 'On Linux']]);
    expect(chunked?.chunks[1]?.content).toContain('# not a heading');
  });

  it('splits long sections at line breaks within the maximum', () => {
    const paragraph = 'A sentence about merge requests and pipelines that is reasonably long. '.repeat(4);
    const markdown = `# Long\n\n## Section\n\n${Array.from({ length: 40 }, () => paragraph).join('\n\n')}`;
    const chunks = chunkMarkdown(markdown)?.chunks ?? [];
    expect(chunks.length).toBeGreaterThan(5);
    for (const chunk of chunks) {
      expect(chunk.content.length).toBeLessThanOrEqual(maxChunkCharacters);
      expect(chunk.content.length).toBeGreaterThanOrEqual(minChunkCharacters);
      expect(chunk.headingPath).toEqual(['Section']);
    }
  });

  it('skips moved-page stubs and empty pages', () => {
    expect(
      chunkMarkdown(
        '---\nredirect_to: ../new.md\nremove_date: 2025-01-01\n---\n\nThis document was moved to [another location](../new.md).\n',
      ),
    ).toBeUndefined();
    expect(
      chunkMarkdown(
        'This document was moved to [another location](../new.md).\n\n<!-- This redirect file can be deleted after 2025-01-01. -->\n',
      ),
    ).toBeUndefined();
    expect(chunkMarkdown('---\ntitle: Empty\n---\n\n')).toBeUndefined();
  });

  it('builds docs-site URLs for index pages', () => {
    expect(documentationUrl('ci/_index.md')).toBe('https://docs.gitlab.com/ci/');
    expect(documentationUrl('user/ssh.md', 'http://localhost:3000/help/')).toBe('http://localhost:3000/help/user/ssh/');
  });
});
