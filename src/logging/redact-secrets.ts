/** What a redaction replaced; the keys match GitLab AI-assist's `DetectorKind`s. */
export type SecretKind = 'email' | 'ipv4' | 'ipv6' | 'basic_auth' | 'token' | 'keyword_secret';

/** GitLab AI-assist's placeholders (`codesuggestions/suggestions/processing`), so redacted prompts look the same. */
export const redactionPlaceholders = {
  email: '<email placeholder|email@example.com>',
  ipv4: '<ipv4 placeholder|x.x.x.x>',
  ipv6: '<ipv6 placeholder|x:x:x:x:x:x:x:x>',
  secret: '<secret placeholder|secret>',
} as const;

interface Detector {
  kind: SecretKind;
  pattern: RegExp;
  /** Builds the replacement from the match; the captured prefix (a key name, `user:`) is kept readable. */
  replace: (match: string, ...groups: string[]) => string;
}

const octet = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const hexGroup = '[0-9A-Fa-f]{1,4}';

/*
 * Every repetition is bounded: these run on up to 100,000 characters a field from any token holder, and an
 * unbounded `[\w-]*` or `\s*` before a literal is quadratic on inputs like 100,000 newlines or `a.a.a.…`
 * (measured 20–100 s before the bounds; test/unit/redact-secrets-speed.test.ts holds each under 100 ms).
 *
 * Order matters (GitLab noted it too): credentials inside URLs go first, or the email detector would eat the
 * `password@host` part and leave the user name; IPv6 before IPv4 so an IPv4-mapped IPv6 address is one match.
 */
const detectors: Detector[] = [
  {
    kind: 'basic_auth',
    // scheme://user:password@host — keep the user, hide the password.
    pattern: /(?<![a-z0-9+.-])([a-z][a-z0-9+.-]{0,31}:\/\/[^\s:/@'"]{1,256}:)([^\s@/'"]{1,256})@/gi,
    replace: (_match, prefix) => `${prefix}${redactionPlaceholders.secret}@`,
  },
  {
    kind: 'token',
    pattern: new RegExp(
      [
        // GitLab tokens: personal, deploy, trigger, runner, feed, agent, OAuth and friends.
        '\\bgl(?:pat|dt|ptt|rt|soat|ft|imt|agent|oas|cbt|ffct|cd|wt)-[A-Za-z0-9_-]{20,}',
        // OpenAI and Anthropic keys.
        '\\bsk-(?:proj-|ant-(?:api\\d\\d-)?)?[A-Za-z0-9_-]{20,}',
        // AWS access key ids.
        '\\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}\\b',
        // GitHub tokens.
        '\\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}\\b',
        '\\bgithub_pat_[A-Za-z0-9_]{22,}',
        // Slack tokens and Google API keys.
        '\\bxox[abprs]-[A-Za-z0-9-]{10,}',
        '\\bAIza[0-9A-Za-z_-]{35}',
        // JSON Web Tokens (header.payload.signature, both JSON parts start with `{"` → `eyJ`).
        '\\beyJ[A-Za-z0-9_-]{10,}\\.eyJ[A-Za-z0-9_-]{10,}\\.[A-Za-z0-9_-]{10,}',
        // PEM private keys, whole block.
        '-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----[\\s\\S]*?-----END (?:[A-Z]+ )?PRIVATE KEY-----',
      ].join('|'),
      'g',
    ),
    replace: () => redactionPlaceholders.secret,
  },
  {
    kind: 'keyword_secret',
    // password = "…", api_key: '…', "client_secret": "…": a quoted literal of 4+ characters after a secret-ish key.
    pattern:
      /((?<![\w-])[\w-]{0,40}(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credentials?)[\w-]{0,40}["']?[ \t]{0,8}(?:=|:|=>|:=)[ \t]{0,8})(["'])([^"'\n]{4,512})\2/gi,
    replace: (_match, prefix, quote) => `${prefix}${quote}${redactionPlaceholders.secret}${quote}`,
  },
  {
    kind: 'keyword_secret',
    // .env style: API_TOKEN=abc123… unquoted, 8+ characters, alone on its line.
    pattern:
      /^([ \t]*(?:export[ \t]+)?[A-Z0-9_]{0,60}(?:PASSWORD|SECRET|TOKEN|API_KEY|ACCESS_KEY|PRIVATE_KEY)[A-Z0-9_]{0,60}=)([^\s"'#]{8,512})$/gm,
    replace: (_match, prefix) => `${prefix}${redactionPlaceholders.secret}`,
  },
  {
    kind: 'email',
    pattern:
      /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}\b/g,
    replace: () => redactionPlaceholders.email,
  },
  {
    kind: 'ipv6',
    // Full 8-group form, or a compressed form with `::`; a digit is required so C++ `a::b` is left alone.
    pattern: new RegExp(
      `(?<![\\w:.])(?:(?:${hexGroup}:){7}${hexGroup}|(?=[0-9A-Fa-f:]*\\d)(?:${hexGroup}:){1,6}:(?:${hexGroup}(?::${hexGroup}){0,5})?|::(?:ffff:)?${octet}(?:\\.${octet}){3})(?![\\w:])`,
      'g',
    ),
    replace: () => redactionPlaceholders.ipv6,
  },
  {
    kind: 'ipv4',
    pattern: new RegExp(`(?<![\\w.])${octet}(?:\\.${octet}){3}(?![\\w.])`, 'g'),
    replace: () => redactionPlaceholders.ipv4,
  },
];

export interface RedactionResult {
  /** The text with every detected secret or PII replaced by a placeholder. */
  text: string;
  /** How many replacements each detector made; empty when nothing was found. */
  counts: Partial<Record<SecretKind, number>>;
}

/** Redacts emails, IP addresses, credentials in URLs, well-known token formats and keyword secrets. */
export function redactSecretsDetailed(input: string): RedactionResult {
  let text = input;
  const counts: Partial<Record<SecretKind, number>> = {};
  for (const detector of detectors) {
    detector.pattern.lastIndex = 0;
    text = text.replace(detector.pattern, (match: string, ...rest: unknown[]) => {
      counts[detector.kind] = (counts[detector.kind] ?? 0) + 1;
      const groups = rest.filter((value): value is string => typeof value === 'string');
      return detector.replace(match, ...groups);
    });
  }
  return { text, counts };
}

/** {@link redactSecretsDetailed}, text only. */
export function redactSecrets(input: string): string {
  return redactSecretsDetailed(input).text;
}
