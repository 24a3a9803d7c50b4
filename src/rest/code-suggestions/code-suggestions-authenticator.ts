import type { IncomingMessage } from 'node:http';
import type { TokenAuthenticator } from '../../auth/token-authenticator.ts';
import { canUseAiFeatures, digestToken } from '../../auth/tokens.ts';
import { AppError } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import { RestHttpError } from '../rest-http-error.ts';
import type { GitLabAiAssistCheck } from './gitlab-ai-assist-check.ts';
import { type OidcTokenVerifier, TokenVerificationError } from './oidc-token-verifier.ts';

/** Who is asking for a code suggestion. */
export interface CodeSuggestionsCaller {
  /** `token`: one of our tokens; `gitlab`: a token GitLab vouched for; `oidc`: a GitLab JWT; `bypass`: AUTH_BYPASS_EXTERNAL. */
  kind: 'token' | 'gitlab' | 'oidc' | 'bypass';
  /** Our user id, when the caller is one of our users (feature flags are checked for it). */
  userId?: number;
  /** Per-caller key of the rate limit: `user:<id>`, `oidc:<sub>` or `gitlab:<digest>`. */
  rateLimitKey: string;
  /** `saas` or `self-managed` (from the JWT claims, or `X-Gitlab-Realm`). */
  realm: string;
}

/** The AI-assist middleware's 401 bodies, word for word. */
export const codeSuggestionsAuthMessages = {
  missingHeader: 'No authorization header presented',
  invalidHeader: 'Invalid authorization header',
  forbidden: 'Forbidden by auth provider',
} as const;

/** The gateway's 403 body for a caller without the code-suggestions scope. */
export const codeSuggestionsForbiddenDetail = 'Unauthorized to access code completions';

export interface CodeSuggestionsAuthenticatorOptions {
  authenticator: TokenAuthenticator;
  logger: Logger;
  /** Verifies `X-Gitlab-Authentication-Type: oidc` JWTs; OIDC callers are refused when absent. */
  oidc?: OidcTokenVerifier;
  /** Asked about tokens our database does not know, when configured. */
  gitlabCheck?: GitLabAiAssistCheck;
  /** AUTH_BYPASS_EXTERNAL: everyone is the debug user. */
  bypass: boolean;
  /**
   * Whether one of our users holds a seat of an add-on that bundles code completion (GitLab checks this before
   * a token reaches the gateway). Absent: only the token's scope is checked.
   */
  hasCodeSuggestionsSeat?: (userId: number) => Promise<boolean>;
}

export interface CodeSuggestionsAuthenticator {
  /** Resolves the caller or throws a RestHttpError with GitLab's 401/403 body. */
  authenticate(request: IncomingMessage): Promise<CodeSuggestionsCaller>;
}

function unauthorized(message: string, cause?: unknown): RestHttpError {
  return new RestHttpError(401, { error: message }, { cause });
}

function headerValue(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * GitLab AI-assist's authentication, plus our own tokens: `Authorization: Bearer <token>` (or `PRIVATE-TOKEN`);
 * with `X-Gitlab-Authentication-Type: oidc` the bearer is a GitLab JWT checked against the JWKS; otherwise a
 * personal access token of ours (scope `api` or `ai_features`), or, when `GITLAB_API_URL` is set, one GitLab
 * vouches for through `/api/v4/ml/ai-assist`.
 */
export function createCodeSuggestionsAuthenticator(
  options: CodeSuggestionsAuthenticatorOptions,
): CodeSuggestionsAuthenticator {
  return {
    async authenticate(request) {
      const realmHeader = headerValue(request, 'x-gitlab-realm') ?? 'saas';
      if (options.bypass) return { kind: 'bypass', rateLimitKey: 'bypass', realm: realmHeader };

      const authorization = headerValue(request, 'authorization');
      const privateToken = headerValue(request, 'private-token')?.trim();
      let token: string;
      if (authorization !== undefined) {
        const match = /^bearer\s+(\S+)\s*$/i.exec(authorization);
        if (!match) throw unauthorized(codeSuggestionsAuthMessages.invalidHeader);
        token = match[1] as string;
      } else if (privateToken) {
        token = privateToken;
      } else {
        throw unauthorized(codeSuggestionsAuthMessages.missingHeader);
      }

      if (headerValue(request, 'x-gitlab-authentication-type')?.toLowerCase() === 'oidc') {
        if (!options.oidc) throw unauthorized(codeSuggestionsAuthMessages.forbidden);
        try {
          const claims = await options.oidc.verify(token);
          const subject = claims.sub ?? headerValue(request, 'x-gitlab-global-user-id') ?? digestToken(token);
          return { kind: 'oidc', rateLimitKey: `oidc:${subject}`, realm: claims.gitlabRealm };
        } catch (error) {
          if (TokenVerificationError.isInstance(error)) {
            options.logger.info({ reason: error.failure }, 'code suggestions: JWT refused');
            throw unauthorized(codeSuggestionsAuthMessages.forbidden, error);
          }
          throw error;
        }
      }

      try {
        const authentication = await options.authenticator.authenticate(token);
        if (!canUseAiFeatures(authentication)) {
          throw new RestHttpError(403, { detail: codeSuggestionsForbiddenDetail });
        }
        if (options.hasCodeSuggestionsSeat && !(await options.hasCodeSuggestionsSeat(authentication.user.id))) {
          throw new RestHttpError(403, { detail: codeSuggestionsForbiddenDetail });
        }
        return {
          kind: 'token',
          userId: authentication.user.id,
          rateLimitKey: `user:${authentication.user.id}`,
          realm: realmHeader,
        };
      } catch (error) {
        if (!AppError.isInstance(error) || error.code !== 'UNAUTHENTICATED') throw error;
        if (options.gitlabCheck) {
          const answer = await options.gitlabCheck.check(token);
          if (answer.allowed) {
            return { kind: 'gitlab', rateLimitKey: `gitlab:${digestToken(token).slice(0, 32)}`, realm: realmHeader };
          }
        }
        options.logger.info({ reason: error.message }, 'code suggestions: token refused');
        throw unauthorized(codeSuggestionsAuthMessages.forbidden, error);
      }
    },
  };
}
