import { z } from 'zod';
import { ConfigError, parseEnvironment } from '../config.ts';

/*
 * The REST surface's own environment variables, read apart from src/config.ts until they are merged there.
 * Same conventions: empty strings count as unset, and a bad value is a one-line ConfigError naming the variable.
 */

const booleanFromEnv = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off', ''])
  .transform((value) => value === 'true' || value === '1' || value === 'yes' || value === 'on');

const moderationMode = z.enum(['off', 'rules', 'provider']);

/** Every variable this reads; exported so the deployment files are checked against it (test/unit/deployment-files.test.ts). */
export const restEnvironmentSchema = z.object({
  /**
   * Local development only: every `/v2/completions` request is allowed as a debug user, without any token
   * check (GitLab AI-assist's variable). Logged at fatal level when on.
   */
  AUTH_BYPASS_EXTERNAL: booleanFromEnv.default(false),
  /** GitLab instance whose OIDC discovery (`/.well-known/openid-configuration`) issues code-suggestion JWTs. */
  GITLAB_URL: z.url().optional(),
  /**
   * GitLab REST root (e.g. `https://gitlab.com/api/v4/`). When set, tokens unknown to our database are checked
   * with `GET <GITLAB_API_URL>ml/ai-assist`, the answer cached one hour.
   */
  GITLAB_API_URL: z.url().optional(),
  /** JWKS location; discovered from GITLAB_URL when unset. */
  CODE_SUGGESTIONS_JWKS_URL: z.url().optional(),
  /** Audience of GitLab's code-suggestion JWTs. */
  CODE_SUGGESTIONS_OIDC_AUDIENCE: z.string().min(1).default('gitlab-code-suggestions'),
  /** Requests per user per minute: GitLab's `code_suggestions_api_rate_limit` default. */
  CODE_SUGGESTIONS_RATE_LIMIT: z.coerce.number().int().min(1).max(100_000).default(60),
  /** Prompt budget in tokens (4 characters each): code-gecko's MAX_MODEL_LEN, GitLab's completion model. */
  CODE_SUGGESTIONS_PROMPT_BUDGET_TOKENS: z.coerce.number().int().min(64).max(200_000).default(2_048),
  /** Tokens a completion may generate: GitLab's 64 for code-gecko. */
  CODE_SUGGESTIONS_MAX_OUTPUT_TOKENS: z.coerce.number().int().min(1).max(4_096).default(64),
  /**
   * Largest request body. A completion body holds two 100,000-character fields (up to 4 bytes each in UTF-8)
   * plus up to 100 context items; 4 MiB fits that while refusing abuse before it is parsed.
   */
  REST_MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1_024)
    .max(64 * 1_024 * 1_024)
    .default(4 * 1_024 * 1_024),
  /** Moderation for features without their own setting. */
  MODERATION_DEFAULT: moderationMode.default('off'),
  /** Code suggestions: the local rules redact secrets and PII before the prompt leaves, as AI-assist did. */
  MODERATION_CODE_SUGGESTIONS: moderationMode.default('rules'),
  /** JSON array of regular expressions (case-insensitive) that block an input in `rules` mode. */
  MODERATION_BLOCKED_PATTERNS: z
    .string()
    .transform((text, context) => {
      try {
        const parsed = z.array(z.string().min(1)).parse(JSON.parse(text));
        for (const source of parsed) new RegExp(source, 'iu');
        return parsed;
      } catch {
        context.addIssue({ code: 'custom', message: 'must be a JSON array of regular expressions' });
        return z.NEVER;
      }
    })
    .default([]),
  /** OpenAI-compatible API root for `provider` moderation, e.g. `https://api.openai.com/v1`. */
  MODERATION_PROVIDER_URL: z.url().optional(),
  MODERATION_PROVIDER_API_KEY: z.string().min(1).optional(),
});

export type RestConfig = z.infer<typeof restEnvironmentSchema>;
export type ModerationMode = z.infer<typeof moderationMode>;

/** Reads the REST variables; throws a one-line {@link ConfigError} naming the bad variable. */
export function loadRestConfig(environment: NodeJS.ProcessEnv = process.env): RestConfig {
  const values = parseEnvironment(restEnvironmentSchema, environment);
  if (values.MODERATION_CODE_SUGGESTIONS === 'provider' || values.MODERATION_DEFAULT === 'provider') {
    if (!values.MODERATION_PROVIDER_URL) {
      throw new ConfigError('Invalid environment variable MODERATION_PROVIDER_URL: required for provider moderation');
    }
  }
  return values;
}
