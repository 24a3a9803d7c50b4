import type { Config } from '../config.ts';

/** Models a prompt definition may be specialised for (`prompts/definitions/<feature>/<model>.yml`). */
const wellKnownModels = [
  'claude-sonnet-4-5',
  'claude-opus-4-1',
  'claude-3-5-sonnet-20241022',
  'claude-3-5-haiku-20241022',
  'gemini-2.5-flash',
  'gemini-2.5-pro',
  'codestral',
  'codegemma',
  'deepseek-coder',
  'starcoder2',
  'fake-model',
] as const;

/** The well-known models plus whatever the configuration names. */
export function knownModels(
  config: Pick<Config, 'ANTHROPIC_MODEL' | 'VERTEX_AI_MODEL' | 'SELF_HOSTED_MODEL_NAME'>,
): string[] {
  return [
    ...new Set([
      ...wellKnownModels,
      config.ANTHROPIC_MODEL,
      config.VERTEX_AI_MODEL,
      ...(config.SELF_HOSTED_MODEL_NAME ? [config.SELF_HOSTED_MODEL_NAME] : []),
    ]),
  ];
}
