import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import { digestToken } from '../../auth/tokens.ts';
import type { Logger } from '../../logger.ts';

/** GitLab's answer to `GET /api/v4/ml/ai-assist`. */
export interface AiAssistAnswer {
  allowed: boolean;
  thirdPartyAiFeaturesEnabled: boolean;
}

export interface GitLabAiAssistCheck {
  /** Asks GitLab whether the token's user may use code suggestions; answers (denials too) are cached. */
  check(token: string): Promise<AiAssistAnswer>;
}

export interface GitLabAiAssistCheckOptions {
  /** GitLab REST root, e.g. `https://gitlab.com/api/v4/` (`GITLAB_API_URL`). */
  apiUrl: string;
  logger: Logger;
  /** GitLab AI-assist's 1 s timeout: the check sits in front of every uncached request. */
  timeoutMs?: number;
  /** GitLab AI-assist cached answers 3,600 s, to spare the Rails API. */
  ttlMs?: number;
  /** Distinct tokens remembered; 10,000 entries is a few MB. */
  max?: number;
}

const aiAssistBody = z.looseObject({
  user_is_allowed: z.boolean(),
  third_party_ai_features_enabled: z.boolean().optional(),
});

const oneHourMs = 3_600_000;
const defaultTimeoutMs = 1_000;

/**
 * The key provider of GitLab AI-assist: `GET <apiUrl>ml/ai-assist` with the caller's token. The cache key is
 * the token's SHA-256 digest (tokens are high-entropy, so a digest is as good as AI-assist's salted PBKDF2), so
 * no raw token is held in memory. Network failures are not cached: the next request asks again.
 */
export function createGitLabAiAssistCheck(options: GitLabAiAssistCheckOptions): GitLabAiAssistCheck {
  const url = new URL('ml/ai-assist', options.apiUrl.endsWith('/') ? options.apiUrl : `${options.apiUrl}/`).href;
  const cache = new LRUCache<string, AiAssistAnswer>({ max: options.max ?? 10_000, ttl: options.ttlMs ?? oneHourMs });
  const inFlight = new Map<string, Promise<AiAssistAnswer>>();

  async function ask(token: string): Promise<AiAssistAnswer | undefined> {
    try {
      const response = await fetch(url, {
        headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
        signal: AbortSignal.timeout(options.timeoutMs ?? defaultTimeoutMs),
      });
      if (!response.ok) return { allowed: false, thirdPartyAiFeaturesEnabled: false };
      const body = aiAssistBody.safeParse(await response.json());
      if (!body.success) return { allowed: false, thirdPartyAiFeaturesEnabled: false };
      return {
        allowed: body.data.user_is_allowed,
        thirdPartyAiFeaturesEnabled: body.data.third_party_ai_features_enabled ?? false,
      };
    } catch (error) {
      options.logger.warn({ err: error, url }, 'GitLab ai-assist check failed');
      return undefined;
    }
  }

  return {
    async check(token) {
      const key = digestToken(token);
      const cached = cache.get(key);
      if (cached) return cached;
      let pending = inFlight.get(key);
      if (!pending) {
        pending = ask(token).then((answer) => {
          if (answer) cache.set(key, answer);
          return answer ?? { allowed: false, thirdPartyAiFeaturesEnabled: false };
        });
        inFlight.set(key, pending);
        void pending.finally(() => inFlight.delete(key));
      }
      return pending;
    },
  };
}
