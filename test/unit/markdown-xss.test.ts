import type { Element } from 'domhandler';
import { DomUtils, parseDocument } from 'htmlparser2';
import { describe, expect, it } from 'vitest';
import { renderMarkdown, sanitizeRenderedHtml } from '../../src/markdown.ts';

/*
 * Payloads in the style of the OWASP XSS Filter Evasion Cheat Sheet, fed to the renderer as model output, inside
 * markdown constructs, and straight to the sanitizer (the wall behind markdown-it's `html: false`). Every output
 * is parsed (htmlparser2, the parser sanitize-html itself uses) and walked element by element.
 */

const baseUrl = 'https://gitlab.example.com/';

/** Raw markup a model could be talked into writing. */
const htmlPayloads: { name: string; html: string }[] = [
  { name: 'script tag', html: '<script>alert(1)</script>' },
  { name: 'external script, upper case', html: '<SCRIPT SRC=https://xss.example/xss.js></SCRIPT>' },
  { name: 'script with a non-alphanumeric separator', html: '<SCRIPT/XSS SRC="http://xss.example/xss.js"></SCRIPT>' },
  { name: 'extraneous open brackets', html: '<<SCRIPT>alert("XSS");//\\<</SCRIPT>' },
  { name: 'script without a closing tag', html: '<SCRIPT SRC=http://xss.example/xss.js?< B >' },
  { name: 'escaping a title', html: '</TITLE><SCRIPT>alert("XSS");</SCRIPT>' },
  { name: 'img javascript: src', html: `<IMG SRC="javascript:alert('XSS');">` },
  { name: 'img mixed-case scheme, no quotes', html: `<IMG SRC=JaVaScRiPt:alert('XSS')>` },
  {
    name: 'img decimal entities',
    html: '<IMG SRC=&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;&#97;&#108;&#101;&#114;&#116;&#40;&#39;&#88;&#83;&#83;&#39;&#41;>',
  },
  {
    name: 'img long decimal entities without semicolons',
    html: '<IMG SRC=&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116&#0000058&#0000097&#0000108&#0000101&#0000114&#0000116&#0000040&#0000039&#0000088&#0000083&#0000083&#0000039&#0000041>',
  },
  {
    name: 'img hex entities without semicolons',
    html: '<IMG SRC=&#x6A&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3A&#x61&#x6C&#x65&#x72&#x74&#x28&#x27&#x58&#x53&#x53&#x27&#x29>',
  },
  { name: 'embedded tab', html: `<IMG SRC="jav\tascript:alert('XSS');">` },
  { name: 'embedded encoded tab', html: `<IMG SRC="jav&#x09;ascript:alert('XSS');">` },
  { name: 'embedded encoded newline', html: `<IMG SRC="jav&#x0A;ascript:alert('XSS');">` },
  { name: 'embedded carriage return', html: `<IMG SRC="jav&#x0D;ascript:alert('XSS');">` },
  { name: 'null byte inside the scheme', html: '<a href="java\0script:alert(1)">x</a>' },
  { name: 'spaces and meta characters before the scheme', html: `<IMG SRC=" &#14;  javascript:alert('XSS');">` },
  { name: 'control character before the scheme', html: '<a href="\x01javascript:alert(1)">x</a>' },
  { name: 'named entity colon', html: '<a href="&#x6A;avascript&colon;alert(1)">x</a>' },
  { name: 'decimal entity colon', html: '<a href="javascript&#58;alert(1)">x</a>' },
  { name: 'malformed img quotes', html: '<IMG """><SCRIPT>alert("XSS")</SCRIPT>">' },
  { name: 'onmouseover on img', html: `<IMG SRC=# onmouseover="alert('xxs')">` },
  { name: 'onerror on img', html: '<IMG SRC=/ onerror="alert(String.fromCharCode(88,83,83))"></img>' },
  { name: 'event handler with junk in its name', html: '<BODY onload!#$%&()*~+-_.,:;?@[/\\]^`=alert("XSS")>' },
  { name: 'half-open img', html: `<IMG SRC="\`<javascript:alert>\`('XSS')"` },
  { name: 'unknown element with onclick', html: '<x onclick=alert(1)>click me</x>' },
  { name: 'details ontoggle', html: '<details open ontoggle=alert(1)>' },
  { name: 'input type=image', html: `<INPUT TYPE="IMAGE" SRC="javascript:alert('XSS');">` },
  { name: 'autofocus input with onfocus', html: '<input type="text" onfocus="alert(1)" autofocus value="x">' },
  { name: 'body background', html: `<BODY BACKGROUND="javascript:alert('XSS')">` },
  { name: 'table background', html: `<TABLE BACKGROUND="javascript:alert('XSS')"><tr><td>x</td></tr></TABLE>` },
  { name: 'svg onload', html: `<svg/onload=alert('XSS')>` },
  { name: 'svg with script', html: '<svg><script>alert(1)</script></svg>' },
  { name: 'iframe javascript: src', html: `<IFRAME SRC="javascript:alert('XSS');"></IFRAME>` },
  { name: 'iframe srcdoc', html: '<iframe srcdoc="&lt;script&gt;alert(1)&lt;/script&gt;"></iframe>' },
  {
    name: 'object scriptlet',
    html: '<OBJECT TYPE="text/x-scriptlet" DATA="http://xss.example/scriptlet.html"></OBJECT>',
  },
  {
    name: 'embed data: svg',
    html: '<EMBED SRC="data:image/svg+xml;base64,PHN2ZyB4bWxuczpzdmc9Imh0dH A6Ly93d3cudzMub3JnLzIwMDAvc3ZnIiB4bWxucz0iaHR0cDovL3d3dy53My5vcmcv MjAwMC9zdmciIHhtbG5zOnhsaW5rPSJodHRwOi8vd3d3LnczLm9yZy8xOTk5L3hs aW5rIiB2ZXJzaW9uPSIxLjAiIHg9IjAiIHk9IjAiIHdpZHRoPSIxOTQiIGhlaWdodD0iMjAw IiBpZD0ieHNzIj48c2NyaXB0IHR5cGU9InRleHQvZWNtYXNjcmlwdCI+YWxlcnQoIlh TUyIpOzwvc2NyaXB0Pjwvc3ZnPg==" type="image/svg+xml" AllowScriptAccess="always"></EMBED>',
  },
  {
    name: 'style tag with url(javascript:)',
    html: `<STYLE>li {list-style-image: url("javascript:alert('XSS')");}</STYLE><UL><LI>XSS</br>`,
  },
  {
    name: 'style attribute url(javascript:)',
    html: `<DIV STYLE="background-image: url(javascript:alert('XSS'))">x</DIV>`,
  },
  { name: 'style attribute expression()', html: `<DIV STYLE="width: expression(alert('XSS'));">x</DIV>` },
  {
    name: 'alignment followed by a smuggled declaration',
    html: '<table><tr><td style="text-align:left;background:url(javascript:alert(1))">x</td></tr></table>',
  },
  {
    name: 'alignment with expression() as its value',
    html: '<table><tr><th style="text-align:expression(alert(1))">x</th></tr></table>',
  },
  { name: 'meta refresh to javascript:', html: `<META HTTP-EQUIV="refresh" CONTENT="0;url=javascript:alert('XSS');">` },
  {
    name: 'meta refresh to data:',
    html: '<META HTTP-EQUIV="refresh" CONTENT="0;url=data:text/html base64,PHNjcmlwdD5hbGVydCgnWFNTJyk8L3NjcmlwdD4K">',
  },
  { name: 'base href', html: `<BASE HREF="javascript:alert('XSS');//">` },
  {
    name: 'form action and button formaction',
    html: '<form action="javascript:alert(1)"><button formaction="javascript:alert(1)">x</button></form>',
  },
  { name: 'stylesheet link', html: `<LINK REL="stylesheet" HREF="javascript:alert('XSS');">` },
  { name: 'vbscript: href', html: '<a href="vbscript:msgbox(1)">x</a>' },
  { name: 'data:text/html href', html: '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>' },
  { name: 'img srcset', html: '<img srcset="javascript:alert(1) 1x" src="https://ok.example/a.png">' },
  { name: 'math/style mutation', html: '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>' },
  { name: 'noscript attribute mutation', html: '<noscript><p title="</noscript><img src=x onerror=alert(1)>">' },
  { name: 'comment breakout', html: '<!--<img src="--><img src=x onerror=alert(1)//">' },
  {
    name: 'protocol-relative backslashes',
    html: '<a href="\\\\evil.example/x">x</a><a href="/\\evil.example/x">y</a>',
  },
  {
    name: 'code with an onclick and a foreign class',
    html: '<pre><code class="x language-js" onclick="alert(1)">1</code></pre>',
  },
];

/** Dangerous link targets, written as a model would put them in markdown (entities are markdown's too). */
const urlPayloads: { name: string; url: string }[] = [
  { name: 'javascript:', url: 'javascript:alert(1)' },
  { name: 'mixed-case javascript:', url: 'JaVaScRiPt:alert(1)' },
  { name: 'entity-encoded j', url: '&#106;avascript:alert(1)' },
  { name: 'hex entity and named colon', url: '&#x6A;avascript&colon;alert(1)' },
  { name: 'decimal entity colon', url: 'javascript&#58;alert(1)' },
  { name: 'encoded tab in the scheme', url: 'java&#x09;script:alert(1)' },
  { name: 'encoded newline in the scheme', url: 'java&#10;script:alert(1)' },
  { name: 'null byte in the scheme', url: 'java\0script:alert(1)' },
  { name: 'javascript: comment and newline', url: 'javascript://%0Aalert(1)' },
  { name: 'vbscript:', url: 'vbscript:msgbox(1)' },
  { name: 'data:text/html', url: 'data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==' },
  { name: 'data:image/svg+xml', url: 'data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+' },
  { name: 'data:image/png (allowed by markdown-it for images)', url: 'data:image/png;base64,iVBORw0KGgo=' },
  { name: 'file:', url: 'file:///etc/passwd' },
  { name: 'protocol-relative', url: '//evil.example/x' },
  { name: 'backslash protocol-relative', url: '\\\\evil.example/x' },
  { name: 'quote breaking out of the attribute', url: 'https://ok.example/"onmouseover="alert(1)' },
];

/** Markdown constructs a payload of raw markup is embedded in. */
const htmlContexts: { name: string; wrap: (html: string) => string }[] = [
  { name: 'as plain text', wrap: (html) => html },
  { name: 'in bold', wrap: (html) => `**${html}**` },
  { name: 'in a heading', wrap: (html) => `# ${html}` },
  { name: 'in a quoted list item', wrap: (html) => `> - ${html}` },
  { name: 'in a table cell', wrap: (html) => `| a |\n|:-:|\n| ${html.replaceAll('|', '\\|')} |` },
  { name: 'as link text', wrap: (html) => `[${html}](https://ok.example/)` },
  { name: 'as a link title', wrap: (html) => `[a](https://ok.example/ "${html.replaceAll('"', '\\"')}")` },
  { name: 'as image alt text', wrap: (html) => `![${html}](https://ok.example/a.png)` },
];

/** Markdown constructs a link target is embedded in. */
const urlContexts: { name: string; wrap: (url: string) => string }[] = [
  { name: 'link', wrap: (url) => `[a](${url})` },
  { name: 'angle-bracket link', wrap: (url) => `[a](<${url}>)` },
  { name: 'link with a title', wrap: (url) => `[a](${url} "t")` },
  { name: 'image', wrap: (url) => `![a](${url})` },
  { name: 'reference-style link', wrap: (url) => `[a][r]\n\n[r]: ${url}` },
  { name: 'reference-style image', wrap: (url) => `![a][r]\n\n[r]: ${url}` },
  { name: 'autolink', wrap: (url) => `<${url}>` },
  { name: 'bare text (linkify)', wrap: (url) => `see ${url} now` },
];

// What the renderer may emit, written down independently of src/markdown.ts.
const allowedAttributes: Record<string, readonly string[]> = {
  ...Object.fromEntries(
    ['p', 'br', 'hr', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'blockquote', 'pre', 'em', 'strong', 's', 'del'].map(
      (tag) => [tag, []],
    ),
  ),
  ...Object.fromEntries(['ul', 'li', 'table', 'thead', 'tbody', 'tr'].map((tag) => [tag, []])),
  a: ['href', 'title', 'rel'],
  img: ['src', 'alt', 'title'],
  code: ['class'],
  ol: ['start'],
  th: ['style'],
  td: ['style'],
  input: ['type', 'checked', 'disabled'],
};

const placeholderPage = 'https://relative.invalid/page';

/** Reads an href/src the way a browser would and insists it is a safe scheme, or a path on the instance. */
function expectSafeUrl(url: string, options: { baseUrl?: string }): void {
  // `URL` is the WHATWG parser browsers use: it drops tabs and newlines and trims control characters first.
  if (URL.canParse(url)) {
    expect(['http:', 'https:', 'mailto:'], url).toContain(new URL(url).protocol);
    return;
  }
  if (url.startsWith('#')) return;
  // A relative reference: only expected without a base URL, and it must stay on the page's origin
  // (`//host`, `\\host` or `/\host` would leave it).
  expect(options.baseUrl, `relative ${url} left unresolved`).toBeUndefined();
  expect(new URL(url, placeholderPage).origin, url).toBe(new URL(placeholderPage).origin);
}

/** Parses the HTML and checks every element and attribute against the allow-lists; returns the elements. */
function expectSafeHtml(html: string, options: { baseUrl?: string } = {}): Element[] {
  const elements = DomUtils.findAll(() => true, parseDocument(html).children);
  for (const element of elements) {
    expect(Object.keys(allowedAttributes), html).toContain(element.name);
    for (const [name, value] of Object.entries(element.attribs)) {
      expect(name, html).not.toMatch(/^on/i);
      expect(allowedAttributes[element.name], `${element.name}[${name}] in ${html}`).toContain(name);
      if (name === 'href' || name === 'src') expectSafeUrl(value, options);
      if (name === 'style') expect(value, html).toMatch(/^text-align:(left|center|right);?$/);
      if (name === 'class') expect(value, html).toMatch(/^language-[\w+#-]+$/);
      if (name === 'rel') expect(value).toBe('noopener noreferrer nofollow');
    }
    if (element.name === 'input') {
      expect(element.attribs.type, html).toBe('checkbox');
      expect(element.attribs, html).toHaveProperty('disabled');
    }
  }
  return elements;
}

function elementsNamed(elements: Element[], name: string): Element[] {
  return elements.filter((element) => element.name === name);
}

/** A code span that contains the text verbatim, whatever backticks it holds. */
function codeSpan(text: string): string {
  const longestRun = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longestRun + 1);
  // One space on each side is stripped again by the parser, and lets the text start or end with a backtick.
  return `${fence} ${text} ${fence}`;
}

// markdown-it replaces NUL with U+FFFD, as CommonMark requires.
const asMarkdownText = (text: string) => text.replaceAll('\0', '\uFFFD');

describe('renderMarkdown against XSS payloads', () => {
  it('has at least 30 distinct payloads', () => {
    const distinct = new Set([...htmlPayloads.map(({ html }) => html), ...urlPayloads.map(({ url }) => url)]);
    expect(htmlPayloads.length).toBeGreaterThanOrEqual(30);
    expect(distinct.size).toBe(htmlPayloads.length + urlPayloads.length);
  });

  describe.each(htmlContexts)('raw markup $name', ({ wrap }) => {
    it.each(htmlPayloads)('$name', ({ html }) => {
      expectSafeHtml(renderMarkdown(wrap(html)));
      expectSafeHtml(renderMarkdown(wrap(html), { baseUrl }), { baseUrl });
    });
  });

  describe('raw markup inside code stays escaped text', () => {
    it.each(htmlPayloads)('code span: $name', ({ html }) => {
      const [code, ...more] = elementsNamed(expectSafeHtml(renderMarkdown(`Try ${codeSpan(html)}.`)), 'code');
      expect(more).toEqual([]);
      expect(DomUtils.textContent(code!)).toBe(asMarkdownText(html));
    });

    it.each(htmlPayloads)('fenced block: $name', ({ html }) => {
      const elements = expectSafeHtml(renderMarkdown(`\`\`\`\`html\n${html}\n\`\`\`\``));
      const [code, ...more] = elementsNamed(elements, 'code');
      expect(more).toEqual([]);
      expect(code!.attribs.class).toBe('language-html');
      expect(DomUtils.textContent(code!)).toBe(`${asMarkdownText(html)}\n`);
    });
  });

  describe.each(urlContexts)('link target in a $name', ({ wrap }) => {
    it.each(urlPayloads)('$name', ({ url }) => {
      expectSafeHtml(renderMarkdown(wrap(url)));
      expectSafeHtml(renderMarkdown(wrap(url), { baseUrl }), { baseUrl });
    });
  });

  it('keeps a fence info string that tries to break out of the class attribute escaped', () => {
    const elements = expectSafeHtml(renderMarkdown('```ts" onclick="alert(1)\nx\n```'));
    expect(elementsNamed(elements, 'code')[0]!.attribs).toEqual({});
  });
});

// The second wall: if markdown-it ever let markup through (`html: true`, a plugin, a bug), this is what it meets.
describe('sanitizeRenderedHtml against XSS payloads', () => {
  it.each(htmlPayloads)('markup: $name', ({ html }) => {
    expectSafeHtml(sanitizeRenderedHtml(html));
    expectSafeHtml(sanitizeRenderedHtml(html, { baseUrl }), { baseUrl });
  });

  it.each(urlPayloads)('href and src: $name', ({ url }) => {
    // In HTML the entities are HTML's: the parser decodes them before any check, as a browser would.
    const html = `<a href="${url.replaceAll('"', '&quot;')}">a</a><img src="${url.replaceAll('"', '&quot;')}">`;
    expectSafeHtml(sanitizeRenderedHtml(html));
    expectSafeHtml(sanitizeRenderedHtml(html, { baseUrl }), { baseUrl });
  });

  it('keeps table alignment but nothing smuggled after it', () => {
    const elements = expectSafeHtml(
      sanitizeRenderedHtml('<table><tr><td style="text-align:right;position:fixed;top:0">x</td></tr></table>'),
    );
    expect(elementsNamed(elements, 'td')[0]!.attribs.style).toBe('text-align:right');
  });

  it.each([
    ['<input type="checkbox" checked disabled>', { type: 'checkbox', disabled: '', checked: '' }],
    ['<input type="checkbox">', { type: 'checkbox', disabled: '' }],
    [
      '<input type="image" src="javascript:alert(1)" formaction="javascript:alert(1)" onfocus="alert(1)" autofocus>',
      { type: 'checkbox', disabled: '' },
    ],
    ['<input type="text" value="secret" name="q" form="f">', { type: 'checkbox', disabled: '' }],
  ])('turns %s into a disabled checkbox', (html, attributes) => {
    const [input] = elementsNamed(expectSafeHtml(sanitizeRenderedHtml(html)), 'input');
    expect(input!.attribs).toEqual(attributes);
  });
});

describe('renderMarkdown still renders markdown', () => {
  it('keeps the language class of a fenced code block', () => {
    const elements = expectSafeHtml(renderMarkdown('```typescript\nconst answer: number = 42;\n```'));
    const [pre] = elementsNamed(elements, 'pre');
    const code = pre!.children[0] as Element;
    expect(code.name).toBe('code');
    expect(code.attribs).toEqual({ class: 'language-typescript' });
    expect(DomUtils.textContent(code)).toBe('const answer: number = 42;\n');
  });

  it('keeps an https link and marks it noopener noreferrer nofollow', () => {
    const html = renderMarkdown('Read [the docs](https://docs.gitlab.com/ee/user/ "User docs").', { baseUrl });
    const [link] = elementsNamed(expectSafeHtml(html, { baseUrl }), 'a');
    expect(link!.attribs).toEqual({
      href: 'https://docs.gitlab.com/ee/user/',
      title: 'User docs',
      rel: 'noopener noreferrer nofollow',
    });
  });

  it('links bare URLs, email autolinks, and keeps mailto', () => {
    const elements = expectSafeHtml(renderMarkdown('See https://gitlab.com/help or <support@gitlab.example.com>.'));
    expect(elementsNamed(elements, 'a').map((link) => link.attribs.href)).toEqual([
      'https://gitlab.com/help',
      'mailto:support@gitlab.example.com',
    ]);
  });

  it('keeps table column alignment', () => {
    const elements = expectSafeHtml(renderMarkdown('| l | c | r | n |\n|:--|:-:|--:|---|\n| 1 | 2 | 3 | 4 |'));
    expect(elementsNamed(elements, 'th').map((cell) => cell.attribs.style)).toEqual([
      'text-align:left',
      'text-align:center',
      'text-align:right',
      undefined,
    ]);
    expect(elementsNamed(elements, 'td').map((cell) => cell.attribs.style)).toEqual([
      'text-align:left',
      'text-align:center',
      'text-align:right',
      undefined,
    ]);
  });

  it('makes relative links and images absolute against the base URL', () => {
    const markdown =
      '[docs](/help/user/index.md) [user](user/index.md?x=1#top) ![logo](/uploads/logo.png) [here](#top)';
    const elements = expectSafeHtml(renderMarkdown(markdown, { baseUrl }), { baseUrl });
    expect(elementsNamed(elements, 'a').map((link) => link.attribs.href)).toEqual([
      'https://gitlab.example.com/help/user/index.md',
      'https://gitlab.example.com/user/index.md?x=1#top',
      '#top',
    ]);
    expect(elementsNamed(elements, 'img')[0]!.attribs.src).toBe('https://gitlab.example.com/uploads/logo.png');
  });

  it('resolves against a base URL with a path like a browser would', () => {
    const html = renderMarkdown('[a](/help) [b](user/index.md)', { baseUrl: 'https://example.com/gitlab/' });
    expect(elementsNamed(expectSafeHtml(html), 'a').map((link) => link.attribs.href)).toEqual([
      'https://example.com/help',
      'https://example.com/gitlab/user/index.md',
    ]);
  });

  it('leaves relative links relative without a base URL', () => {
    const elements = expectSafeHtml(renderMarkdown('[docs](/help/user/index.md) [user](user/index.md)'));
    expect(elementsNamed(elements, 'a').map((link) => link.attribs.href)).toEqual([
      '/help/user/index.md',
      'user/index.md',
    ]);
  });

  it('renders emphasis, strikethrough, headings, quotes and lists', () => {
    const elements = expectSafeHtml(
      renderMarkdown('## Title\n\n**bold** _italic_ ~~gone~~\n\n> quoted\n\n3. three\n4. four\n\n- a\n- b\n\n---'),
    );
    const names = elements.map((element) => element.name);
    for (const name of ['h2', 'strong', 'em', 's', 'blockquote', 'ol', 'ul', 'hr']) expect(names).toContain(name);
    expect(elementsNamed(elements, 'ol')[0]!.attribs).toEqual({ start: '3' });
    expect(elementsNamed(elements, 'li')).toHaveLength(4);
    expect(DomUtils.textContent(elementsNamed(elements, 'strong')[0]!)).toBe('bold');
  });
});
