import { createHash, randomBytes } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { personalAccessTokens, users } from '../db/schema/users.ts';
import { AppError } from '../errors.ts';

export const tokenScopes = ['api', 'ai_features', 'read_api'] as const;
export type TokenScope = (typeof tokenScopes)[number];

/** The signed-in user as every resolver and job sees it. */
export interface AuthUser {
  id: number;
  username: string;
  admin: boolean;
}

export interface Authentication {
  user: AuthUser;
  scopes: readonly TokenScope[];
  /** `YYYY-MM-DD`: the token stops working at the start of this day (UTC); null never expires. */
  expiresAt: string | null;
}

/**
 * Tokens are 20 random bytes: unguessable, so a plain SHA-256 digest is enough to store them
 * (GitLab does the same); a slow hash would only slow every request.
 */
export function digestToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function generateToken(): string {
  return `glpat-${randomBytes(20).toString('base64url')}`;
}

/** Reads the token from `Authorization: Bearer …` or `PRIVATE-TOKEN`. */
export function tokenFromHeaders(headers: { get(name: string): string | null }): string | undefined {
  const privateToken = headers.get('private-token');
  if (privateToken) return privateToken.trim();
  const authorization = headers.get('authorization');
  if (!authorization) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!match) throw new AppError('UNAUTHENTICATED', 'Invalid authorization header');
  return match[1];
}

/** Looks a token up by its digest; wrong, revoked, expired or blocked → UNAUTHENTICATED. */
export async function authenticateToken(db: Database, token: string, now = new Date()): Promise<Authentication> {
  const [row] = await db
    .select({
      userId: users.id,
      username: users.username,
      admin: users.admin,
      state: users.state,
      scopes: personalAccessTokens.scopes,
      expiresAt: personalAccessTokens.expiresAt,
      revoked: personalAccessTokens.revoked,
    })
    .from(personalAccessTokens)
    .innerJoin(users, eq(users.id, personalAccessTokens.userId))
    .where(and(eq(personalAccessTokens.tokenDigest, digestToken(token))))
    .limit(1);
  if (!row) throw new AppError('UNAUTHENTICATED', 'Invalid token');
  if (row.revoked)
    throw new AppError('UNAUTHENTICATED', 'Token was revoked. You have to re-authorize from the user profile.');
  // GitLab tokens expire at the start of their expiry date (UTC).
  if (row.expiresAt !== null && row.expiresAt <= now.toISOString().slice(0, 10)) {
    throw new AppError('UNAUTHENTICATED', 'Token has expired.');
  }
  if (row.state !== 'active') throw new AppError('UNAUTHENTICATED', 'Your account has been blocked.');
  const scopes = row.scopes.filter((scope): scope is TokenScope => (tokenScopes as readonly string[]).includes(scope));
  return { user: { id: row.userId, username: row.username, admin: row.admin }, scopes, expiresAt: row.expiresAt };
}

/** AI actions need a token that may write (`api`) or is made for AI (`ai_features`). */
export function canUseAiFeatures(authentication: Authentication | undefined): boolean {
  return authentication?.scopes.some((scope) => scope === 'api' || scope === 'ai_features') ?? false;
}

/** Any scope reads. */
export function canRead(authentication: Authentication | undefined): boolean {
  return authentication !== undefined && authentication.scopes.length > 0;
}
