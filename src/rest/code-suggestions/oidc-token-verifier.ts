import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import { z } from 'zod';

/*
 * RS256 JWT verification with node:crypto rather than a JWT library: GitLab's code-suggestion tokens use one
 * algorithm and a handful of claims, which fit in this file, and the project gains no dependency.
 */

/** Claims of GitLab's code-suggestion access token (`POST /api/v4/code_suggestions/tokens`). */
export interface CodeSuggestionsClaims {
  /** Subject: GitLab's token owner; used as the rate-limit key of OIDC callers. */
  sub?: string;
  jti?: string;
  iss?: string;
  /** `saas` or `self-managed`; GitLab's default is `saas`. */
  gitlabRealm: string;
  thirdPartyAiFeaturesEnabled: boolean;
}

const verificationFailureMarker = Symbol.for('duo-ai-layer.TokenVerificationError');

export type TokenVerificationFailure =
  | 'malformed'
  | 'unsupported_algorithm'
  | 'unknown_key'
  | 'bad_signature'
  | 'expired'
  | 'not_yet_valid'
  | 'wrong_audience'
  | 'wrong_issuer'
  | 'keys_unavailable';

/** Why a JWT was refused; the reason is logged, the client only ever sees GitLab's generic 401. */
export class TokenVerificationError extends Error {
  override name = 'TokenVerificationError';
  readonly [verificationFailureMarker] = true;
  readonly failure: TokenVerificationFailure;

  constructor(failure: TokenVerificationFailure, options?: { cause?: unknown }) {
    super(`JWT refused: ${failure}`, options);
    this.failure = failure;
  }

  static isInstance(value: unknown): value is TokenVerificationError {
    return typeof value === 'object' && value !== null && verificationFailureMarker in value;
  }
}

export interface OidcTokenVerifierOptions {
  /** GitLab instance; keys come from `<gitlabUrl>/.well-known/openid-configuration` → `jwks_uri`. */
  gitlabUrl?: string;
  /** JWKS location, skipping discovery (then the issuer is not checked). */
  jwksUrl?: string;
  /** Required `aud`: GitLab's `gitlab-code-suggestions`. */
  audience: string;
  /** How long fetched keys are trusted: GitLab AI-assist cached the JWKS 86,400 s (a day). */
  cacheTtlMs?: number;
  /**
   * Shortest time between two fetches triggered by an unknown `kid` (key rotation). Without it, tokens with
   * random `kid`s would make us fetch the JWKS on every request.
   */
  refetchIntervalMs?: number;
  /** GitLab AI-assist's 10 s timeout for discovery and JWKS requests. */
  fetchTimeoutMs?: number;
  /** Clock for tests. */
  now?: () => number;
}

export interface OidcTokenVerifier {
  /** Verifies signature, expiry, not-before, audience (and issuer after discovery); throws TokenVerificationError. */
  verify(token: string): Promise<CodeSuggestionsClaims>;
}

const discoveryDocument = z.object({ issuer: z.string().optional(), jwks_uri: z.url() });
const jwksDocument = z.object({
  keys: z.array(z.looseObject({ kty: z.string(), kid: z.string().optional(), use: z.string().optional() })),
});
const jwtHeader = z.object({ alg: z.string(), kid: z.string().optional() });
const jwtPayload = z.looseObject({
  exp: z.number(),
  nbf: z.number().optional(),
  iat: z.number().optional(),
  aud: z.union([z.string(), z.array(z.string())]),
  iss: z.string().optional(),
  sub: z.string().optional(),
  jti: z.string().optional(),
  gitlab_realm: z.string().optional(),
  third_party_ai_features_enabled: z.boolean().optional(),
});

const oneDayMs = 86_400_000;
/** A minute between forced refetches: key rotation is rare, and a minute bounds the cost of forged `kid`s. */
const defaultRefetchIntervalMs = 60_000;
const defaultFetchTimeoutMs = 10_000;

interface KeySet {
  keys: Map<string, KeyObject>;
  /** Keys without `kid`, tried in turn when a token names none. */
  anonymous: KeyObject[];
  issuer: string | undefined;
  fetchedAt: number;
}

function decodeSegment<T>(segment: string, schema: z.ZodType<T>): T {
  try {
    return schema.parse(JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')));
  } catch (error) {
    throw new TokenVerificationError('malformed', { cause: error });
  }
}

/** A verifier with a cached JWKS; concurrent requests share one fetch. */
export function createOidcTokenVerifier(options: OidcTokenVerifierOptions): OidcTokenVerifier {
  const now = options.now ?? Date.now;
  const ttlMs = options.cacheTtlMs ?? oneDayMs;
  const refetchIntervalMs = options.refetchIntervalMs ?? defaultRefetchIntervalMs;
  const timeoutMs = options.fetchTimeoutMs ?? defaultFetchTimeoutMs;
  let cached: KeySet | undefined;
  let inFlight: Promise<KeySet> | undefined;

  async function fetchJson(url: string): Promise<unknown> {
    const response = await fetch(url, {
      signal: AbortSignal.timeout(timeoutMs),
      headers: { accept: 'application/json' },
    });
    if (!response.ok) throw new Error(`${url} answered ${response.status}`);
    return response.json();
  }

  async function load(): Promise<KeySet> {
    let jwksUrl = options.jwksUrl;
    let issuer: string | undefined;
    if (!jwksUrl) {
      if (!options.gitlabUrl) throw new Error('neither GITLAB_URL nor CODE_SUGGESTIONS_JWKS_URL is set');
      const discovery = discoveryDocument.parse(
        await fetchJson(new URL('.well-known/openid-configuration', `${options.gitlabUrl.replace(/\/+$/, '')}/`).href),
      );
      jwksUrl = discovery.jwks_uri;
      issuer = discovery.issuer;
    }
    const jwks = jwksDocument.parse(await fetchJson(jwksUrl));
    const keys = new Map<string, KeyObject>();
    const anonymous: KeyObject[] = [];
    for (const jwk of jwks.keys) {
      if (jwk.kty !== 'RSA' || (jwk.use !== undefined && jwk.use !== 'sig')) continue;
      try {
        const key = createPublicKey({ key: jwk, format: 'jwk' });
        if (jwk.kid) keys.set(jwk.kid, key);
        else anonymous.push(key);
      } catch {
        // A malformed key is skipped; tokens signed with it fail as `unknown_key`.
      }
    }
    return { keys, anonymous, issuer, fetchedAt: now() };
  }

  async function keySet(force: boolean): Promise<KeySet> {
    const fresh = cached && now() - cached.fetchedAt < ttlMs;
    const mayRefetch = !cached || now() - cached.fetchedAt >= refetchIntervalMs;
    if (cached && fresh && !(force && mayRefetch)) return cached;
    inFlight ??= load().finally(() => {
      inFlight = undefined;
    });
    try {
      cached = await inFlight;
    } catch (error) {
      // Keep serving a stale set rather than refusing everyone while GitLab is unreachable.
      if (cached) return cached;
      throw new TokenVerificationError('keys_unavailable', { cause: error });
    }
    return cached;
  }

  function keysFor(set: KeySet, kid: string | undefined): KeyObject[] {
    if (kid === undefined) return [...set.anonymous, ...set.keys.values()];
    const key = set.keys.get(kid);
    return key ? [key] : [];
  }

  return {
    async verify(token) {
      const parts = token.split('.');
      if (parts.length !== 3) throw new TokenVerificationError('malformed');
      const [headerSegment, payloadSegment, signatureSegment] = parts as [string, string, string];
      const header = decodeSegment(headerSegment, jwtHeader);
      // Only RS256: accepting the token's own `alg` is the classic `none`/HS256 confusion attack.
      if (header.alg !== 'RS256') throw new TokenVerificationError('unsupported_algorithm');
      const payload = decodeSegment(payloadSegment, jwtPayload);

      let set = await keySet(false);
      let candidates = keysFor(set, header.kid);
      if (candidates.length === 0) {
        set = await keySet(true);
        candidates = keysFor(set, header.kid);
      }
      if (candidates.length === 0) throw new TokenVerificationError('unknown_key');
      const signed = Buffer.from(`${headerSegment}.${payloadSegment}`, 'ascii');
      const signature = Buffer.from(signatureSegment, 'base64url');
      if (!candidates.some((key) => verify('RSA-SHA256', signed, key, signature))) {
        throw new TokenVerificationError('bad_signature');
      }

      const seconds = now() / 1000;
      if (payload.exp <= seconds) throw new TokenVerificationError('expired');
      if (payload.nbf !== undefined && payload.nbf > seconds) throw new TokenVerificationError('not_yet_valid');
      const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
      if (!audiences.includes(options.audience)) throw new TokenVerificationError('wrong_audience');
      if (set.issuer !== undefined && payload.iss !== set.issuer) throw new TokenVerificationError('wrong_issuer');
      return {
        ...(payload.sub ? { sub: payload.sub } : {}),
        ...(payload.jti ? { jti: payload.jti } : {}),
        ...(payload.iss ? { iss: payload.iss } : {}),
        gitlabRealm: payload.gitlab_realm ?? 'saas',
        thirdPartyAiFeaturesEnabled: payload.third_party_ai_features_enabled ?? false,
      };
    },
  };
}
