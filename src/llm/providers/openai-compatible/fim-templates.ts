/**
 * Fill-in-the-middle prompts for the open code models a GPU worker typically serves. vLLM ignores the
 * `/v1/completions` `suffix` field, so the model's own FIM tokens go into `prompt`. Templates, stops and
 * defaults follow GitLab's AI gateway definitions (`ai_gateway/prompts/definitions/code_suggestions/
 * completions/<family>/1.0.0.yml`); StarCoder's tokens are from its model card.
 */
export type FimFamily = 'codegemma' | 'codestral' | 'deepseek-coder' | 'starcoder';

export interface FimTemplate {
  /** The `prompt` text for a prefix and suffix. */
  prompt(prefix: string, suffix: string): string;
  /** Special tokens that must end the completion if the model emits them. */
  stop: string[];
  /** GitLab's `max_tokens` for this family. */
  maxTokens: number;
  /** GitLab's temperature for this family. */
  temperature: number;
}

export const fimTemplates: Record<FimFamily, FimTemplate> = {
  codegemma: {
    prompt: (prefix, suffix) => `<|fim_prefix|>${prefix}<|fim_suffix|>${suffix}<|fim_middle|>`,
    stop: ['<|fim_prefix|>', '<|fim_suffix|>', '<|fim_middle|>', '<|file_separator|>'],
    maxTokens: 128,
    temperature: 0.95,
  },
  // Codestral takes the suffix first.
  codestral: {
    prompt: (prefix, suffix) => `<s>[SUFFIX]${suffix}[PREFIX]${prefix}`,
    stop: ['[INST]', '[/INST]', '[PREFIX]', '[MIDDLE]', '[SUFFIX]'],
    maxTokens: 64,
    temperature: 0.32,
  },
  // DeepSeek's markers use full-width bars (U+FF5C) and U+2581, not ASCII.
  'deepseek-coder': {
    prompt: (prefix, suffix) => `<｜fim▁begin｜>${prefix}<｜fim▁hole｜>${suffix}<｜fim▁end｜>`,
    stop: ['<｜fim▁begin｜>', '<｜fim▁hole｜>', '<｜fim▁end｜>', '<｜end▁of▁sentence｜>'],
    maxTokens: 128,
    temperature: 0.2,
  },
  starcoder: {
    prompt: (prefix, suffix) => `<fim_prefix>${prefix}<fim_suffix>${suffix}<fim_middle>`,
    stop: ['<|endoftext|>', '<fim_prefix>', '<fim_suffix>', '<fim_middle>', '<file_sep>'],
    maxTokens: 64,
    temperature: 0.2,
  },
};

const familyPatterns: [RegExp, FimFamily][] = [
  [/codegemma/i, 'codegemma'],
  [/codestral/i, 'codestral'],
  [/deepseek[-_ ]?coder/i, 'deepseek-coder'],
  [/starcoder|santacoder/i, 'starcoder'],
];

/** The FIM family of a served model name (`google/codegemma-7b`, `bigcode/starcoder2-15b`…), if known. */
export function fimFamilyForModel(model: string): FimFamily | undefined {
  return familyPatterns.find(([pattern]) => pattern.test(model))?.[1];
}
