/** A cited documentation page from `extras.sources`, ready to show. */
export interface DocumentationLink {
  title: string;
  /** Only ever an http(s) URL; absent when the source's URL is anything else (it is then shown as text). */
  href?: string;
}

/**
 * Reads `extras.sources` (GitLab's `{ source_url, title, source }` items). The items are JSON from the server,
 * so nothing about them is trusted: a `javascript:` or `data:` URL never becomes a link.
 */
export function documentationLinks(sources: readonly unknown[] | null | undefined): DocumentationLink[] {
  const links: DocumentationLink[] = [];
  for (const source of sources ?? []) {
    if (typeof source !== 'object' || source === null) continue;
    const { source_url: url, title, source: sourcePath } = source as Record<string, unknown>;
    const href = typeof url === 'string' ? httpUrl(url) : undefined;
    const text = [title, sourcePath, url].find((value) => typeof value === 'string' && value.trim() !== '');
    if (typeof text !== 'string') continue;
    links.push(href ? { title: text, href } : { title: text });
  }
  return links;
}

function httpUrl(candidate: string): string | undefined {
  try {
    const url = new URL(candidate, window.location.href);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : undefined;
  } catch {
    return undefined;
  }
}
