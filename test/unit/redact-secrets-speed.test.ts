import { describe, expect, it } from 'vitest';
import { redactSecrets } from '../../src/logging/redact-secrets.ts';

/**
 * Redaction runs on every code suggestion's 100,000-character fields, for any token holder. Before its
 * repetitions were bounded, these inputs took 20–100 s each (catastrophic backtracking) and froze the API.
 */
const hostile: Record<string, string> = {
  newlines: '\n'.repeat(100_000),
  'a.a.a…': 'a.'.repeat(50_000),
  '1.1.1…': '1.'.repeat(50_000),
  'passwordpassword…': 'password'.repeat(12_500),
  'a-a-a…': 'a-'.repeat(50_000),
  'a@a@a…': 'a@'.repeat(50_000),
  'TOKEN=TOKEN=…': 'TOKEN='.repeat(16_000),
  'password="password="…': 'password="'.repeat(10_000),
  'a.a.a…@': `${'a.'.repeat(49_990)}@x.com`,
};

describe('secret redaction on hostile input', () => {
  it.each(Object.entries(hostile))('handles 100,000 characters of %s in well under a second', (_name, text) => {
    const startedAt = performance.now();
    redactSecrets(text);
    // Measured 1–16 ms; the bound leaves room for a loaded CI machine while catching a quadratic pattern.
    expect(performance.now() - startedAt).toBeLessThan(1_000);
  });

  it('still redacts what it is for', () => {
    const text = [
      'const url = "https://deploy:hunter2secret@gitlab.example.com/repo.git";',
      'password = "correct horse battery"',
      'export API_TOKEN=abcdef1234567890',
      'mail jane.doe@example.com about 10.0.0.12',
    ].join('\n');
    const redacted = redactSecrets(text);
    for (const secret of [
      'hunter2secret',
      'correct horse battery',
      'abcdef1234567890',
      'jane.doe@example.com',
      '10.0.0.12',
    ]) {
      expect(redacted).not.toContain(secret);
    }
    expect(redacted).toContain('https://deploy:');
    expect(redacted).toContain('password = "');
  });
});
