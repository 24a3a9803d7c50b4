import type { Authentication } from '../auth/tokens.ts';
import type { GraphQLContext } from '../context.ts';
import { AppError, resourceNotAvailableMessage } from '../errors.ts';

/** The signed-in user of a request that may write, or GitLab's refusal. */
export function requireWriter(context: GraphQLContext): Authentication {
  const authentication = context.authentication;
  if (!authentication?.scopes.includes('api')) throw new AppError('FORBIDDEN', resourceNotAvailableMessage);
  return authentication;
}

/** An instance administrator with a token that may write. */
export function requireAdmin(context: GraphQLContext): Authentication {
  const authentication = requireWriter(context);
  if (!authentication.user.admin) throw new AppError('FORBIDDEN', resourceNotAvailableMessage);
  return authentication;
}
