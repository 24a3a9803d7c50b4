import type { FeatureFlags } from '../feature-flags/feature-flags.ts';
import { redactSecrets } from './redact-secrets.ts';

/** GitLab's per-user flag that lets prompts and answers reach the logs at INFO (`Gitlab::Llm::Logger#info_or_debug`). */
export const expandedAiLoggingFlag = 'expanded_ai_logging';

/** Whether this user's AI texts may be logged; no user (an OIDC or bypass caller) means no. */
export async function isExpandedAiLoggingEnabled(flags: FeatureFlags, userId: number | undefined): Promise<boolean> {
  if (userId === undefined) return false;
  return flags.isEnabled(expandedAiLoggingFlag, { userId });
}

/**
 * The log fields for named AI texts (prompt, answer, user input…). Always `<name>_chars` (the size); the text
 * itself as `<name>` only when `expanded` (the user's `expanded_ai_logging` flag), and even then with secrets
 * and PII redacted: a log line is no place for a credential, whoever asked for verbose logs.
 *
 * @example logger.info({ requestId, ...aiPayloadFields({ prompt, answer }, { expanded }) }, 'code suggestion')
 */
export function aiPayloadFields(
  texts: Record<string, string | undefined>,
  options: { expanded: boolean },
): Record<string, string | number> {
  const fields: Record<string, string | number> = {};
  for (const [name, text] of Object.entries(texts)) {
    if (text === undefined) continue;
    fields[`${name}_chars`] = text.length;
    if (options.expanded) fields[name] = redactSecrets(text);
  }
  return fields;
}
