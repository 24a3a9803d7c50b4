import type { Language } from './detect-language.ts';

/** GitLab's token estimate where no tokenizer is at hand (`estimateTokens`): four characters per token. */
const charactersPerToken = 4;
/** GitLab AI-assist gave imports at most 512 tokens of the budget, so a long import block cannot crowd out the code. */
const importBudgetTokens = 512;

/** Lines that bring names into scope, per language; kept in the prompt even when the prefix is cut. */
const importPatterns: Record<string, RegExp> = {
  python: /^\s*(?:import\s+\S|from\s+\S+\s+import\s)/,
  js: /^\s*(?:import\s|(?:const|let|var)\s+[\w{}\s,]+=\s*require\()/,
  ts: /^\s*(?:import\s|(?:const|let|var)\s+[\w{}\s,]+=\s*require\()/,
  go: /^\s*import\s/,
  java: /^\s*import\s/,
  kotlin: /^\s*import\s/,
  scala: /^\s*import\s/,
  c: /^\s*#\s*include\s/,
  cpp: /^\s*#\s*include\s/,
  csharp: /^\s*using\s+[\w.]+\s*;/,
  php: /^\s*(?:use\s+[\w\\]+|require(?:_once)?\s|include(?:_once)?\s)/,
  ruby: /^\s*(?:require|require_relative)\s/,
  rust: /^\s*(?:use|extern\s+crate)\s/,
};

export interface CodePromptInput {
  /** Code above the cursor. */
  prefix: string;
  /** Code below the cursor. */
  suffix: string;
  fileName: string;
  language: Language | undefined;
  /** The model's prompt budget in tokens (header, imports, prefix and suffix together). */
  budgetTokens: number;
}

export interface CodePrompt {
  /** The language header comment ("This code has a filename of … and is written in …."), `''` when unknown. */
  header: string;
  /** Import lines re-added because truncation cut them from the prefix (joined, each ending in a newline). */
  restoredImports: string;
  /** The prefix after truncation from the left (without header or imports). */
  prefix: string;
  /** The suffix after truncation from the right. */
  suffix: string;
  /** `header + restoredImports + prefix`: what a fill-in-the-middle model gets before the cursor. */
  fullPrefix: string;
  prefixTruncated: boolean;
  suffixTruncated: boolean;
}

function headerFor(fileName: string, language: Language | undefined): string {
  if (!language) return '';
  const text = `This code has a filename of ${fileName} and is written in ${language.name}.`;
  switch (language.comment) {
    case 'hash':
      return `# ${text}\n`;
    case 'block':
      return `/* ${text} */\n`;
    default:
      return `// ${text}\n`;
  }
}

function importLines(prefix: string, language: Language | undefined, budgetCharacters: number): string[] {
  const pattern = language ? importPatterns[language.id] : undefined;
  if (!pattern) return [];
  const lines: string[] = [];
  let used = 0;
  for (const line of prefix.split('\n')) {
    if (!pattern.test(line)) continue;
    if (used + line.length + 1 > budgetCharacters) break;
    lines.push(line);
    used += line.length + 1;
  }
  return lines;
}

/**
 * GitLab AI-assist's PaLM prompt: a language header; the suffix cut from the right to at most half the body
 * budget; the prefix cut from the left to the rest; import lines that the cut removed put back in front (within
 * their own 512-token budget). Budgets are in estimated tokens (4 characters), not a model tokenizer's.
 */
export function buildCodePrompt(input: CodePromptInput): CodePrompt {
  const budget = input.budgetTokens * charactersPerToken;
  const header = headerFor(input.fileName, input.language);
  const imports = importLines(
    input.prefix,
    input.language,
    Math.min(budget / 2, importBudgetTokens * charactersPerToken),
  );
  const importsSize = imports.reduce((total, line) => total + line.length + 1, 0);
  const bodyBudget = Math.max(0, budget - header.length - importsSize);

  const suffixBudget = Math.floor(bodyBudget / 2);
  const suffixTruncated = input.suffix.length > suffixBudget;
  const suffix = suffixTruncated ? input.suffix.slice(0, suffixBudget) : input.suffix;

  const prefixBudget = bodyBudget - suffix.length;
  const prefixTruncated = input.prefix.length > prefixBudget;
  let prefix = input.prefix;
  if (prefixTruncated) {
    prefix = prefixBudget > 0 ? input.prefix.slice(-prefixBudget) : '';
    // Drop the partial first line: a line cut in the middle reads as a syntax error to the model.
    const firstNewline = prefix.indexOf('\n');
    if (firstNewline >= 0 && firstNewline < prefix.length - 1) prefix = prefix.slice(firstNewline + 1);
  }
  const kept = new Set(prefix.split('\n'));
  const restoredImports = prefixTruncated
    ? imports
        .filter((line) => !kept.has(line))
        .map((line) => `${line}\n`)
        .join('')
    : '';
  return {
    header,
    restoredImports,
    prefix,
    suffix,
    fullPrefix: header + restoredImports + prefix,
    prefixTruncated,
    suffixTruncated,
  };
}
