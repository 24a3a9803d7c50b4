import { describe, expect, it } from 'vitest';
import { renderMarkdown } from '../../src/markdown.ts';

describe('renderMarkdown', () => {
  it('renders code blocks with a language class and links with safe rel', () => {
    const html = renderMarkdown('See [docs](https://docs.gitlab.com)\n\n```ruby\nputs 1\n```');
    expect(html).toContain('<a href="https://docs.gitlab.com" rel="noopener noreferrer nofollow">docs</a>');
    expect(html).toContain('<code class="language-ruby">puts 1');
  });

  it.each([
    '<script>alert(1)</script>',
    '<img src=x onerror=alert(1)>',
    '[click](javascript:alert(1))',
    '[click](JaVaScRiPt:alert(1))',
    '<a href="javascript:alert(1)">x</a>',
    '<svg onload=alert(1)>',
    '![x](javascript:alert(1))',
    '<iframe src="https://evil.example"></iframe>',
    '```"><script>alert(1)</script>\ncode\n```',
  ])('neutralizes %s', (payload) => {
    const html = renderMarkdown(payload);
    expect(html).not.toMatch(
      /<script|<img[^>]+onerror|<svg|<iframe|<a[^>]+href="javascript:|<img[^>]+src="javascript:/i,
    );
    expect(html).not.toMatch(/<[a-z]+[^>]*\son[a-z]+=/i);
  });
});
