import type { IncomingMessage } from 'node:http';
import type { Authentication } from '../../auth/tokens.ts';
import { tokenFromHeaders } from '../../auth/tokens.ts';
import { AppError } from '../../errors.ts';
import { headerReader } from '../http-io.ts';
import { RestHttpError } from '../rest-http-error.ts';
import type { RestServices } from '../rest-services.ts';

/** GitLab's per-user gate of every experimentation endpoint. */
export const experimentationApiFlag = 'ai_experimentation_api';

/**
 * The body of GitLab's `not_found!('REST API endpoint not found')`: Grape's helper wraps its argument as
 * `404 <resource> Not Found`, so the text really reads twice "not found".
 */
export const experimentationNotFoundBody = { message: '404 REST API endpoint not found Not Found' };

/** GitLab's `authenticate!` answer. */
const unauthorizedBody = { message: '401 Unauthorized' };
/** GitLab's answer to a token whose scopes do not include `api` (read_api or ai_features only). */
const insufficientScopeBody = {
  error: 'insufficient_scope',
  error_description: 'The request requires higher privileges than provided by the access token.',
  scope: 'api',
};

/**
 * `authenticate!` then `check_feature_enabled`: a personal access token with scope `api`, the user's
 * `ai_experimentation_api` flag, and the provider's own flag (`anthropic_experimentation`,
 * `tofa_experimentation_main_flag`), checked globally as GitLab does. A disabled experiment is a 404.
 */
export async function authorizeExperimentation(
  services: RestServices,
  request: IncomingMessage,
  providerFlag: string,
): Promise<Authentication> {
  let authentication: Authentication;
  try {
    const token = tokenFromHeaders(headerReader(request));
    if (!token) throw new RestHttpError(401, unauthorizedBody);
    authentication = await services.authenticator.authenticate(token);
  } catch (error) {
    if (AppError.isInstance(error) && error.code === 'UNAUTHENTICATED') {
      throw new RestHttpError(401, unauthorizedBody, { cause: error });
    }
    throw error;
  }
  if (!authentication.scopes.includes('api')) throw new RestHttpError(403, insufficientScopeBody);
  const [userEnabled, providerEnabled] = await Promise.all([
    services.featureFlags.isEnabled(experimentationApiFlag, { userId: authentication.user.id }),
    services.featureFlags.isEnabled(providerFlag),
  ]);
  if (!userEnabled || !providerEnabled) throw new RestHttpError(404, experimentationNotFoundBody);
  return authentication;
}

/** The provider with this registry id, or the fake one when USE_FAKE_MODELS serves everything. */
export function experimentProvider(services: RestServices, providerId: string, feature: string) {
  const direct = services.providers.list().find((provider) => provider.id === providerId);
  if (direct) return direct;
  return services.config.useFakeModels ? services.providers.forFeature(feature) : undefined;
}
