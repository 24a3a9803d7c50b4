import { redactSecretsDetailed, type SecretKind } from '../logging/redact-secrets.ts';
import { InputModerationError } from './input-moderation-error.ts';
import type { ModerationClassifier } from './moderation-classifier.ts';

/** A rule of the local rule set: a pattern whose match blocks the input. */
export interface ModerationRule {
  /** Reported in `InputModerationError.categories` and logs (never the matched text). */
  name: string;
  pattern: RegExp;
}

/** How one feature's inputs are moderated. */
export type ModerationPolicy =
  /** Nothing is checked and nothing is redacted. */
  | { mode: 'off' }
  /** Local rules block; secrets and PII are redacted (not blocked) before the prompt leaves. */
  | { mode: 'rules'; rules: ModerationRule[]; redactSecrets: boolean }
  /** A provider classifies the (redacted, when `redactSecrets`) texts; flagged blocks. */
  | { mode: 'provider'; classifier: ModerationClassifier; redactSecrets: boolean };

/** The texts to send on, possibly redacted, and what was redacted. */
export interface ModeratedInput<Texts extends Record<string, string>> {
  texts: Texts;
  /** Redactions per kind, summed over the texts; empty when none. */
  redactions: Partial<Record<SecretKind, number>>;
}

export interface InputModerator {
  /**
   * Checks the texts of one request for `feature`. Throws {@link InputModerationError} when they may not be
   * sent (before any model call); otherwise returns them, redacted when the policy says so.
   */
  moderate<Texts extends Record<string, string>>(
    feature: string,
    texts: Texts,
    options?: { signal?: AbortSignal },
  ): Promise<ModeratedInput<Texts>>;
}

export interface InputModeratorOptions {
  /** Policy per feature (`code_suggestions`, `chat`, `explain_code`…). */
  policies?: Record<string, ModerationPolicy>;
  /** For features without a policy of their own. */
  defaultPolicy: ModerationPolicy;
}

/** GitLab's wording for an input refused by moderation (OpenAI era), with the policy owner's name. */
export function inputModerationMessage(owner: string | undefined): string {
  return owner ? `Provided input violates ${owner}'s Content Policy` : 'Provided input violates the Content Policy';
}

function redactAll<Texts extends Record<string, string>>(texts: Texts): ModeratedInput<Texts> {
  const redactions: Partial<Record<SecretKind, number>> = {};
  const redacted: Record<string, string> = {};
  for (const [name, text] of Object.entries(texts)) {
    const result = redactSecretsDetailed(text);
    redacted[name] = result.text;
    for (const [kind, count] of Object.entries(result.counts) as [SecretKind, number][]) {
      redactions[kind] = (redactions[kind] ?? 0) + count;
    }
  }
  return { texts: redacted as Texts, redactions };
}

/** Moderates inputs per feature: off, a local rule set with secret redaction, or a provider call. */
export function createInputModerator(options: InputModeratorOptions): InputModerator {
  return {
    async moderate(feature, texts, callOptions = {}) {
      const policy = options.policies?.[feature] ?? options.defaultPolicy;
      if (policy.mode === 'off') return { texts, redactions: {} };
      if (policy.mode === 'rules') {
        const matched = policy.rules.filter((rule) =>
          Object.values(texts).some((text) => {
            rule.pattern.lastIndex = 0;
            return rule.pattern.test(text);
          }),
        );
        if (matched.length > 0) {
          throw new InputModerationError({
            failure: 'flagged',
            feature,
            message: inputModerationMessage(undefined),
            categories: matched.map((rule) => rule.name),
          });
        }
        return policy.redactSecrets ? redactAll(texts) : { texts, redactions: {} };
      }
      const moderated = policy.redactSecrets ? redactAll(texts) : { texts, redactions: {} };
      let verdict: { flagged: boolean; categories: string[] };
      try {
        verdict = await policy.classifier.classify(Object.values(moderated.texts), callOptions);
      } catch (error) {
        // Fail closed: a feature configured for provider moderation never sends unchecked input.
        throw new InputModerationError({
          failure: 'unavailable',
          feature,
          message: 'Content moderation is unavailable. Try again later.',
          cause: error,
        });
      }
      if (verdict.flagged) {
        throw new InputModerationError({
          failure: 'flagged',
          feature,
          message: inputModerationMessage(policy.classifier.name),
          categories: verdict.categories,
        });
      }
      return moderated;
    },
  };
}

/** Parses the `MODERATION_BLOCKED_PATTERNS` list (regular expressions, matched case-insensitively). */
export function rulesFromPatterns(patterns: readonly string[]): ModerationRule[] {
  return patterns.map((source, index) => ({ name: `blocked_pattern_${index + 1}`, pattern: new RegExp(source, 'iu') }));
}
