/**
 * The flags this service knows, with their type and what they do when no row exists for them. A flag
 * with a row in `feature_flags` is decided by its gates only (GitLab's `default_enabled` semantics).
 */
export interface FlagDefinition {
  type: 'ops' | 'development';
  /** Used while the flag has no row in the database. */
  defaultEnabled: boolean;
  description: string;
}

export const flagDefinitions: Record<string, FlagDefinition> = {
  ai_global_switch: {
    type: 'ops',
    defaultEnabled: true,
    description: 'Kill switch for every AI feature except chat.',
  },
  ai_duo_chat_switch: { type: 'ops', defaultEnabled: true, description: 'Kill switch for Duo Chat.' },
  expanded_ai_logging: {
    type: 'development',
    defaultEnabled: false,
    description: 'Per user: log prompts, inputs and model output.',
  },
  ai_experimentation_api: {
    type: 'development',
    defaultEnabled: false,
    description: 'Per user: the experimental REST endpoints.',
  },
  anthropic_experimentation: {
    type: 'development',
    defaultEnabled: false,
    description: 'The experimental Anthropic endpoint as a whole (with ai_experimentation_api per user).',
  },
  duo_chat_categorize_question: {
    type: 'development',
    defaultEnabled: false,
    description:
      'Categorize each answered chat question in a follow-up job (GitLab does it on GitLab.com only); adds one model call per answer.',
  },
  tofa_experimentation_main_flag: {
    type: 'development',
    defaultEnabled: false,
    description: 'The experimental Vertex endpoint as a whole (with ai_experimentation_api per user).',
  },
};

/** Per-action flags (`summarize_comments`, …) and prompt migrations are declared by the catalogue. */
export function definitionOf(name: string): FlagDefinition | undefined {
  if (flagDefinitions[name]) return flagDefinitions[name];
  if (name.startsWith('prompt_migration_')) {
    return {
      type: 'development',
      defaultEnabled: false,
      description: 'Per user: route an action to its migrated prompt.',
    };
  }
  return undefined;
}
