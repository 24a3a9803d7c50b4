import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { UnitPrimitiveBundles } from '../actions/cloud-connector.ts';
import type { AccessDirectory } from '../auth/access-directory.ts';
import { createCodeSuggestionsAuthenticator } from './code-suggestions/code-suggestions-authenticator.ts';
import { createCodeSuggestionsRateLimiter } from './code-suggestions/code-suggestions-rate-limiter.ts';
import { createCompletionsRoute } from './code-suggestions/completions-route.ts';
import { createGitLabAiAssistCheck } from './code-suggestions/gitlab-ai-assist-check.ts';
import { createOidcTokenVerifier } from './code-suggestions/oidc-token-verifier.ts';
import { createAnthropicCompleteRoute } from './experimentation/anthropic-complete-route.ts';
import { createVertexChatRoute } from './experimentation/vertex-chat-route.ts';
import { sendJson } from './http-io.ts';
import { loadRestConfig } from './rest-config.ts';
import { RestHttpError } from './rest-http-error.ts';
import { createModeratorFromRestConfig } from './rest-moderation.ts';
import type { RestServices, RouteContext, RouteHandler } from './rest-services.ts';

/** One route: its handler, and the error bodies of its API family (FastAPI-style `/v2`, Grape-style `/api/v4`). */
interface Route {
  /** Route template for metrics and logs (aliases report their own path). */
  name: string;
  handler: RouteHandler;
  family: 'gateway' | 'rails';
}

const methodNotAllowedBody = {
  gateway: { detail: 'Method Not Allowed' },
  rails: { message: '405 Method Not Allowed' },
};
const internalErrorBody = {
  gateway: { detail: 'Internal Server Error' },
  rails: { message: '500 Internal Server Error' },
};

/**
 * The REST routes as one node:http handler: it answers and resolves `true` for its paths, and resolves `false`
 * for any other path so the caller (src/server.ts) hands the request on to Yoga.
 *
 * - `POST /v2/completions`, `POST /v2/code/completions`: code suggestions (GitLab AI gateway contract).
 * - `POST /api/v4/ai/experimentation/anthropic/complete`, `POST /api/v4/ai/experimentation/vertex/chat`
 *   (and GitLab's earlier `…/tofa/chat`): the experimentation API.
 *
 * Every answer is counted in `http_requests_total` / `http_request_duration_seconds` and logged once
 * (`rest access`) with ids, names and sizes; prompt texts only when the user's `expanded_ai_logging` is on.
 */
function hasSeatFor(directory: AccessDirectory, bundles: UnitPrimitiveBundles, unitPrimitive: string) {
  const addOns = bundles.get(unitPrimitive);
  return async (userId: number) => (await directory.seats(userId)).some((seat) => addOns?.has(seat.addOn) === true);
}

export function createRestHandler(
  services: RestServices,
): (request: IncomingMessage, response: ServerResponse) => Promise<boolean> {
  const restConfig = services.restConfig ?? loadRestConfig();
  const moderator = services.moderator ?? createModeratorFromRestConfig(restConfig);
  if (restConfig.AUTH_BYPASS_EXTERNAL) {
    services.logger.fatal(
      { variable: 'AUTH_BYPASS_EXTERNAL' },
      'AUTH_BYPASS_EXTERNAL is on: every /v2/completions request is allowed WITHOUT authentication. Local development only.',
    );
  }
  const oidc =
    restConfig.GITLAB_URL || restConfig.CODE_SUGGESTIONS_JWKS_URL
      ? createOidcTokenVerifier({
          audience: restConfig.CODE_SUGGESTIONS_OIDC_AUDIENCE,
          ...(restConfig.GITLAB_URL ? { gitlabUrl: restConfig.GITLAB_URL } : {}),
          ...(restConfig.CODE_SUGGESTIONS_JWKS_URL ? { jwksUrl: restConfig.CODE_SUGGESTIONS_JWKS_URL } : {}),
        })
      : undefined;
  const gitlabCheck = restConfig.GITLAB_API_URL
    ? createGitLabAiAssistCheck({ apiUrl: restConfig.GITLAB_API_URL, logger: services.logger })
    : undefined;
  const completions = createCompletionsRoute({
    services,
    restConfig,
    moderator,
    authenticator: createCodeSuggestionsAuthenticator({
      authenticator: services.authenticator,
      logger: services.logger,
      bypass: restConfig.AUTH_BYPASS_EXTERNAL,
      // A Duo Pro or Enterprise seat whose add-on bundles `complete_code` (config/cloud_connector.yml).
      ...(services.directory && services.bundles
        ? { hasCodeSuggestionsSeat: hasSeatFor(services.directory, services.bundles, 'complete_code') }
        : {}),
      ...(oidc ? { oidc } : {}),
      ...(gitlabCheck ? { gitlabCheck } : {}),
    }),
    rateLimiter: createCodeSuggestionsRateLimiter({
      redis: services.redis,
      keyPrefix: services.config.REDIS_KEY_PREFIX,
      points: restConfig.CODE_SUGGESTIONS_RATE_LIMIT,
      logger: services.logger,
    }),
  });
  const anthropic = createAnthropicCompleteRoute(services, restConfig);
  const vertex = createVertexChatRoute(services, restConfig);

  const routes = new Map<string, Route>([
    ['/v2/completions', { name: '/v2/completions', handler: completions, family: 'gateway' }],
    ['/v2/code/completions', { name: '/v2/code/completions', handler: completions, family: 'gateway' }],
    [
      '/api/v4/ai/experimentation/anthropic/complete',
      { name: '/api/v4/ai/experimentation/anthropic/complete', handler: anthropic, family: 'rails' },
    ],
    [
      '/api/v4/ai/experimentation/vertex/chat',
      { name: '/api/v4/ai/experimentation/vertex/chat', handler: vertex, family: 'rails' },
    ],
    [
      '/api/v4/ai/experimentation/tofa/chat',
      { name: '/api/v4/ai/experimentation/tofa/chat', handler: vertex, family: 'rails' },
    ],
  ]);

  function finish(context: RouteContext, route: Route, errorBody: unknown): void {
    const { request, response, logFields, startedAt } = context;
    const durationSeconds = (performance.now() - startedAt) / 1000;
    const method = request.method ?? 'GET';
    services.metrics.observeHttpRequest(route.name, method, response.statusCode, durationSeconds);
    services.logger.info(
      {
        method,
        path: route.name,
        status_code: response.statusCode,
        duration_s: Number(durationSeconds.toFixed(4)),
        user_agent: request.headers['user-agent'],
        correlation_id: request.headers['x-request-id'],
        ...(errorBody === undefined ? {} : { response_body: errorBody }),
        ...(response.writableFinished ? {} : { client_closed: true }),
        ...logFields,
      },
      'rest access',
    );
  }

  return async function handleRest(request, response) {
    const path = (request.url ?? '/').split('?', 1)[0] ?? '/';
    const route = routes.get(path);
    if (!route) return false;
    const context: RouteContext = { request, response, logFields: {}, startedAt: performance.now() };
    let errorBody: unknown;
    response.once('close', () => finish(context, route, errorBody));
    if (route.family === 'gateway') {
      // AI-assist allowed every origin, POST only (editors in browsers, e.g. the Web IDE, call it directly).
      response.setHeader('access-control-allow-origin', '*');
      if (request.method === 'OPTIONS') {
        response
          .writeHead(204, {
            'access-control-allow-methods': 'POST',
            'access-control-allow-headers': request.headers['access-control-request-headers'] ?? '*',
            // A day: preflights are pure overhead for an editor that calls on every keystroke pause.
            'access-control-max-age': '86400',
          })
          .end();
        return true;
      }
    }
    if (request.method !== 'POST') {
      sendJson(response, 405, methodNotAllowedBody[route.family], { allow: 'POST' });
      return true;
    }
    try {
      await route.handler(context);
    } catch (error) {
      if (RestHttpError.isInstance(error)) {
        if (error.status < 500) errorBody = error.body;
        sendJson(response, error.status, error.body, error.headers);
      } else {
        services.logger.error({ err: error, path: route.name }, 'REST route failed');
        sendJson(response, 500, internalErrorBody[route.family]);
      }
    } finally {
      // A body the route never read (an early 401/429) would otherwise stall a keep-alive connection.
      if (!request.readableEnded) request.resume();
    }
    return true;
  };
}
