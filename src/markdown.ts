import MarkdownIt from 'markdown-it';
import sanitizeHtml from 'sanitize-html';

// Raw HTML in model output is escaped, never passed through: a model can be talked into writing <script>.
// The sanitizer below is a second wall, in case that setting or markdown-it itself ever lets markup through.
const markdown = new MarkdownIt({ html: false, linkify: true, breaks: false });

export interface RenderMarkdownOptions {
  /**
   * The instance's URL (e.g. `https://gitlab.example.com/`). Relative links and images in an answer are made
   * absolute against it (as a browser would resolve them), so `[docs](/help/user/index.md)` still works wherever
   * the HTML is shown. Unset, they stay relative, and a protocol-relative `//host` link is dropped.
   */
  baseUrl?: string;
}

/** Exactly what markdown-it emits (CommonMark, GFM tables and strikethrough), plus task-list checkboxes. */
const allowedTags = [
  ...['p', 'br', 'hr', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'blockquote', 'pre', 'code'],
  ...['em', 'strong', 's', 'del', 'a', 'img'],
  ...['ul', 'ol', 'li', 'input'],
  ...['table', 'thead', 'tbody', 'tr', 'th', 'td'],
];

// markdown-it writes column alignment as `style="text-align:…"`; every other declaration (`url(…)`,
// `expression(…)`, `position`…) is dropped, so the attribute cannot carry anything else.
const alignment = { 'text-align': [/^(left|center|right)$/] };

/**
 * Makes a relative URL absolute against the instance. Absolute URLs are left untouched, and the scheme
 * allow-list still applies to the result; an in-page `#fragment` stays as it is.
 */
function resolveUrl(url: string | undefined, baseUrl: string | undefined): string | undefined {
  if (url === undefined || baseUrl === undefined || url.startsWith('#') || URL.canParse(url)) return url;
  return URL.canParse(url, baseUrl) ? new URL(url, baseUrl).href : undefined;
}

function withResolvedUrl(attributes: sanitizeHtml.Attributes, name: string, baseUrl: string | undefined) {
  const { [name]: url, ...rest } = attributes;
  const resolved = resolveUrl(url, baseUrl);
  return resolved === undefined ? rest : { [name]: resolved, ...rest };
}

function sanitizeOptions(baseUrl: string | undefined): sanitizeHtml.IOptions {
  return {
    allowedTags,
    allowedAttributes: {
      a: ['href', 'title', 'rel'],
      img: ['src', 'alt', 'title'],
      code: ['class'],
      th: ['style'],
      td: ['style'],
      ol: ['start'],
      input: ['type', 'checked', 'disabled'],
    },
    allowedClasses: { code: [/^language-[\w+#-]+$/] },
    allowedStyles: { th: alignment, td: alignment },
    // Checked after the transforms below, on the decoded and resolved value: `&#106;avascript:`, tabs or
    // control characters inside the scheme, and `data:` all fail here.
    allowedSchemes: ['http', 'https', 'mailto'],
    allowedSchemesAppliedToAttributes: ['href', 'src'],
    allowProtocolRelative: false,
    transformTags: {
      a: (tagName, attribs) => ({
        tagName,
        attribs: { ...withResolvedUrl(attribs, 'href', baseUrl), rel: 'noopener noreferrer nofollow' },
      }),
      img: (tagName, attribs) => ({ tagName, attribs: withResolvedUrl(attribs, 'src', baseUrl) }),
      // A task-list box only shows state: whatever came in, it leaves as a disabled checkbox (no `type=image`,
      // no `formaction`, no text field).
      input: (tagName, attribs) => ({
        tagName,
        attribs: { type: 'checkbox', disabled: '', ...('checked' in attribs ? { checked: '' } : {}) },
      }),
    },
  };
}

/** The sanitizing half of {@link renderMarkdown}, for HTML that markdown-it produced. */
export function sanitizeRenderedHtml(html: string, options: RenderMarkdownOptions = {}): string {
  return sanitizeHtml(html, sanitizeOptions(options.baseUrl));
}

/** Markdown → sanitized HTML for `contentHtml`. */
export function renderMarkdown(content: string, options: RenderMarkdownOptions = {}): string {
  return sanitizeRenderedHtml(markdown.render(content), options);
}
