/** A programming language GitLab's code suggestions recognise. */
export interface Language {
  /** GitLab's id, reported as `model.lang` and the `lang` metric label (`python`, `cpp`…). */
  id: string;
  /** Human name used in the prompt header ("… is written in C++."). */
  name: string;
  /** How a one-line comment is written, for the prompt header. */
  comment: 'hash' | 'slash' | 'block';
}

const languages = {
  c: { id: 'c', name: 'C', comment: 'slash' },
  cpp: { id: 'cpp', name: 'C++', comment: 'slash' },
  csharp: { id: 'csharp', name: 'C#', comment: 'slash' },
  go: { id: 'go', name: 'Go', comment: 'slash' },
  java: { id: 'java', name: 'Java', comment: 'slash' },
  js: { id: 'js', name: 'JavaScript', comment: 'slash' },
  php: { id: 'php', name: 'PHP', comment: 'slash' },
  python: { id: 'python', name: 'Python', comment: 'hash' },
  ruby: { id: 'ruby', name: 'Ruby', comment: 'hash' },
  rust: { id: 'rust', name: 'Rust', comment: 'slash' },
  scala: { id: 'scala', name: 'Scala', comment: 'slash' },
  ts: { id: 'ts', name: 'TypeScript', comment: 'slash' },
  kotlin: { id: 'kotlin', name: 'Kotlin', comment: 'slash' },
} as const satisfies Record<string, Language>;

type LanguageKey = keyof typeof languages;

/**
 * GitLab AI-assist's extension table (`LanguageId` in suggestions/prompt.py), plus `jsx` which the gateway
 * added later. Case matters: `C` and `H` are C++ (Unix convention), `c` and `h` are C.
 */
const byExtension: Record<string, LanguageKey> = {
  c: 'c',
  h: 'c',
  cpp: 'cpp',
  hpp: 'cpp',
  'c++': 'cpp',
  'h++': 'cpp',
  cc: 'cpp',
  hh: 'cpp',
  C: 'cpp',
  H: 'cpp',
  cs: 'csharp',
  go: 'go',
  java: 'java',
  js: 'js',
  jsx: 'js',
  php: 'php',
  php3: 'php',
  php4: 'php',
  php5: 'php',
  phps: 'php',
  phpt: 'php',
  py: 'python',
  rb: 'ruby',
  rs: 'rust',
  scala: 'scala',
  ts: 'ts',
  tsx: 'ts',
  kts: 'kotlin',
  kt: 'kotlin',
};

/** VS Code language ids (`current_file.language_identifier`), used when the file name has no known extension. */
const byEditorLanguageId: Record<string, LanguageKey> = {
  c: 'c',
  cpp: 'cpp',
  csharp: 'csharp',
  go: 'go',
  java: 'java',
  javascript: 'js',
  javascriptreact: 'js',
  php: 'php',
  python: 'python',
  ruby: 'ruby',
  rust: 'rust',
  scala: 'scala',
  typescript: 'ts',
  typescriptreact: 'ts',
  kotlin: 'kotlin',
};

export interface DetectedLanguage {
  /** Undefined when neither the extension nor the editor id is known (GitLab then reports `lang: ""`). */
  language: Language | undefined;
  /** The file's extension without the dot (`''` when none), for the `extension` metric label. */
  extension: string;
}

/** Detects the language from the file name's extension, then from the editor's language id. */
export function detectLanguage(fileName: string, languageIdentifier?: string | null): DetectedLanguage {
  const base = fileName.slice(fileName.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  const extension = dot > 0 ? base.slice(dot + 1) : '';
  const key =
    byExtension[extension] ??
    byExtension[extension.toLowerCase()] ??
    (languageIdentifier ? byEditorLanguageId[languageIdentifier.toLowerCase()] : undefined);
  return { language: key ? languages[key] : undefined, extension };
}
