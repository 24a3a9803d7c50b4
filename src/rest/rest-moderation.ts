import {
  createInputModerator,
  type InputModerator,
  type ModerationPolicy,
  rulesFromPatterns,
} from '../moderation/input-moderator.ts';
import { createOpenAIModerationClassifier } from '../moderation/moderation-classifier.ts';
import type { ModerationMode, RestConfig } from './rest-config.ts';

/** The moderator the MODERATION_* variables describe (`code_suggestions` has its own mode, the rest the default). */
export function createModeratorFromRestConfig(config: RestConfig): InputModerator {
  const rules = rulesFromPatterns(config.MODERATION_BLOCKED_PATTERNS);
  const classifier = config.MODERATION_PROVIDER_URL
    ? createOpenAIModerationClassifier({
        baseURL: config.MODERATION_PROVIDER_URL,
        ...(config.MODERATION_PROVIDER_API_KEY ? { apiKey: config.MODERATION_PROVIDER_API_KEY } : {}),
      })
    : undefined;
  const policyFor = (mode: ModerationMode): ModerationPolicy => {
    if (mode === 'rules') return { mode, rules, redactSecrets: true };
    // loadRestConfig refuses `provider` without MODERATION_PROVIDER_URL, so the classifier exists here.
    if (mode === 'provider' && classifier) return { mode, classifier, redactSecrets: true };
    return { mode: 'off' };
  };
  return createInputModerator({
    defaultPolicy: policyFor(config.MODERATION_DEFAULT),
    policies: { code_suggestions: policyFor(config.MODERATION_CODE_SUGGESTIONS) },
  });
}
