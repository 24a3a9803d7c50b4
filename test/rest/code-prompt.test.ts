import { describe, expect, it } from 'vitest';
import { buildCodePrompt } from '../../src/rest/code-suggestions/build-code-prompt.ts';
import { detectLanguage } from '../../src/rest/code-suggestions/detect-language.ts';
import {
  postProcessCompletion,
  removeIncompleteLines,
} from '../../src/rest/code-suggestions/post-process-completion.ts';

describe('detectLanguage', () => {
  it('follows GitLab’s extension table, case-sensitively for C/C++', () => {
    expect(detectLanguage('a.py').language?.id).toBe('python');
    expect(detectLanguage('src/a.c').language?.id).toBe('c');
    expect(detectLanguage('src/a.C').language?.id).toBe('cpp');
    expect(detectLanguage('a.phpt').language?.id).toBe('php');
    expect(detectLanguage('build.gradle.kts').language?.id).toBe('kotlin');
    expect(detectLanguage('a.jsx')).toEqual({ language: expect.objectContaining({ id: 'js' }), extension: 'jsx' });
    expect(detectLanguage('README.md').language).toBeUndefined();
    expect(detectLanguage('.bashrc')).toEqual({ language: undefined, extension: '' });
    expect(detectLanguage('script', 'javascriptreact').language?.id).toBe('js');
  });
});

describe('buildCodePrompt', () => {
  const python = detectLanguage('x.py').language;

  it('adds the language header and leaves short code alone', () => {
    const prompt = buildCodePrompt({
      prefix: 'import os\nx = ',
      suffix: '\n',
      fileName: 'x.py',
      language: python,
      budgetTokens: 2048,
    });
    expect(prompt.header).toBe('# This code has a filename of x.py and is written in Python.\n');
    expect(prompt.fullPrefix).toBe(`${prompt.header}import os\nx = `);
    expect(prompt.prefixTruncated).toBe(false);
  });

  it('gives the suffix at most half the body budget and the prefix the rest, keeping import lines', () => {
    const prefix = `import numpy as np\nfrom os import path\n${'value = 1\n'.repeat(2_000)}result = `;
    const suffix = 'print(result)\n'.repeat(2_000);
    const prompt = buildCodePrompt({ prefix, suffix, fileName: 'x.py', language: python, budgetTokens: 512 });
    const budget = 512 * 4;
    expect(prompt.prefixTruncated && prompt.suffixTruncated).toBe(true);
    expect(prompt.fullPrefix.length + prompt.suffix.length).toBeLessThanOrEqual(budget);
    const body = budget - prompt.header.length - prompt.restoredImports.length;
    expect(prompt.suffix.length).toBeLessThanOrEqual(Math.floor(body / 2));
    expect(suffix.startsWith(prompt.suffix)).toBe(true);
    expect(prefix.endsWith(prompt.prefix)).toBe(true);
    expect(prompt.prefix.startsWith('value = 1\n')).toBe(true); // the cut partial line is dropped
    expect(prompt.restoredImports).toBe('import numpy as np\nfrom os import path\n');
  });
});

describe('post-processing', () => {
  it('removes the incomplete last line (GitLab’s remove_incomplete_lines)', () => {
    expect(removeIncompleteLines('a = 1\nb = 2\nc = ')).toBe('a = 1\nb = 2\n');
    expect(removeIncompleteLines('bool:')).toBe('bool:');
    expect(removeIncompleteLines('\nx')).toBe('\nx');
  });

  it('cuts only when the token limit stopped the model, and strips Markdown fences', () => {
    expect(postProcessCompletion('x = 1\ny = ', 'length')).toBe('x = 1\n');
    expect(postProcessCompletion('x = 1\ny = ', 'stop')).toBe('x = 1\ny = ');
    expect(postProcessCompletion('```python\nreturn n % 2 == 0\n```\nExplanation', 'stop')).toBe('return n % 2 == 0\n');
  });
});
