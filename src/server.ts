import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { GraphQLError } from 'graphql';
import type { SubscribePayload, Context as WebSocketContext } from 'graphql-ws';
import { type Extra, useServer } from 'graphql-ws/use/ws';
import { createYoga, type YogaInitialContext } from 'graphql-yoga';
import { WebSocketServer } from 'ws';
import { type Authentication, tokenFromHeaders } from './auth/tokens.ts';
import type { ApiServices, GraphQLContext } from './context.ts';
import { AppError, httpStatusOf } from './errors.ts';
import { createGraphQLLimitPlugins, webSocketValidationRules } from './graphql-limits.ts';
import { isInfrastructureUnavailable, serviceUnavailableMessage } from './infrastructure-errors.ts';
import { createRestHandler } from './rest/create-rest-handler.ts';
import { schema } from './schema/index.ts';
import { serveWebPage } from './web/serve-web-page.ts';

export const graphqlPath = '/api/graphql';

function toGraphQLError(error: AppError): GraphQLError {
  const status = error.code === 'UNAUTHENTICATED' ? 401 : undefined;
  return new GraphQLError(error.message, {
    extensions: { code: error.code, ...(status ? { http: { status } } : {}) },
  });
}

async function authenticate(
  services: ApiServices,
  headers: { get(name: string): string | null },
): Promise<Authentication | undefined> {
  try {
    const token = tokenFromHeaders(headers);
    return token ? await services.authenticator.authenticate(token) : undefined;
  } catch (error) {
    if (AppError.isInstance(error)) throw toGraphQLError(error);
    throw error;
  }
}

/** Yoga with the schema, token authentication, and errors masked unless they are meant for users. */
export function createGraphQLHandler(services: ApiServices) {
  return createYoga<Record<string, unknown>, GraphQLContext>({
    schema,
    graphqlEndpoint: graphqlPath,
    landingPage: false,
    graphiql: services.config.NODE_ENV !== 'production',
    logging: false,
    // Yoga answers a larger body 413 "Request body too large" before parsing it (its own default is 25 MB).
    maxRequestBodySize: services.config.GRAPHQL_MAX_BODY_BYTES,
    plugins: createGraphQLLimitPlugins(services.config),
    context: async (initial: YogaInitialContext & { authentication?: Authentication }) => ({
      services,
      // A WebSocket connection authenticated once, in onConnect; HTTP authenticates per request.
      authentication:
        'authentication' in initial ? initial.authentication : await authenticate(services, initial.request.headers),
      userAgent: initial.request.headers.get('user-agent'),
    }),
    maskedErrors: {
      maskError: (error, message) => {
        const original = error instanceof GraphQLError ? error.originalError : error;
        if (AppError.isInstance(original)) return toGraphQLError(original);
        if (isInfrastructureUnavailable(original)) {
          services.logger.warn({ err: original }, 'a backing service is unreachable');
          return toGraphQLError(new AppError('SERVICE_UNAVAILABLE', serviceUnavailableMessage));
        }
        if (error instanceof GraphQLError && !error.originalError) return error;
        if (error instanceof GraphQLError && error.originalError instanceof GraphQLError) return error.originalError;
        services.logger.error({ err: original }, 'unexpected GraphQL error');
        return new GraphQLError(message);
      },
    },
  });
}

type WebSocketConnectionContext = WebSocketContext<
  Record<string, unknown>,
  Extra & {
    authentication?: Authentication;
    /** A token not yet checked because the database was unreachable when the socket connected. */
    pendingToken?: string | undefined;
  }
>;

export interface ApiServer {
  server: Server;
  listen(port: number, host: string): Promise<number>;
  close(): Promise<void>;
}

/** One HTTP port: GraphQL (HTTP, SSE and graphql-ws) under /api/graphql, health under /-/. */
export function createApiServer(services: ApiServices): ApiServer {
  const yoga = createGraphQLHandler(services);
  const rest = createRestHandler(services);
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const url = request.url ?? '/';
    if (url === '/-/health' || url === '/-/liveness') {
      response.writeHead(200, { 'content-type': 'text/plain' }).end('GitLab OK');
      return;
    }
    if (url === '/-/readiness') {
      void readiness(services).then((checks) => {
        const ready = Object.values(checks).every((check) => check.status === 'ok');
        response
          .writeHead(ready ? 200 : 503, { 'content-type': 'application/json' })
          .end(JSON.stringify({ status: ready ? 'ok' : 'failed', ...checks }));
      });
      return;
    }
    if (serveWebPage(request, response, services.logger)) return; // GET / : the Duo Chat page (web/)
    // REST routes (code suggestions, experimental endpoints) first; everything else is GraphQL.
    void rest(request, response).then(
      (handled) => {
        if (!handled) void yoga.handle(request, response);
      },
      (error: unknown) => {
        services.logger.error({ err: error }, 'REST handler failed');
        if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ error: 'Internal server error' }));
      },
    );
  });

  // ws accepts 100 MiB messages by default; a larger one closes the socket (1009) before it is buffered.
  const webSocketServer = new WebSocketServer({
    server,
    path: graphqlPath,
    maxPayload: services.config.GRAPHQL_MAX_BODY_BYTES,
  });
  const extraWebSocketRules = webSocketValidationRules(services.config);
  const webSocketHandler = useServer<
    Record<string, unknown>,
    { authentication?: Authentication; pendingToken?: string | undefined }
  >(
    {
      onConnect: async (context: WebSocketConnectionContext) => {
        const authorization = context.connectionParams?.authorization ?? context.connectionParams?.Authorization;
        if (typeof authorization !== 'string') return true; // anonymous: may connect, may not subscribe to AI
        let token: string;
        try {
          token = tokenFromHeaders({ get: (name) => (name === 'authorization' ? authorization : null) }) ?? '';
        } catch {
          return false; // a malformed header (`Token …`) is refused like a wrong token: 4403, not a 4500 crash
        }
        try {
          context.extra.authentication = await services.authenticator.authenticate(token);
          return true;
        } catch (error) {
          // The database is unreachable, not the token wrong: keep the socket and authenticate on the next
          // subscribe, so the client is told to retry instead of that its token is refused.
          if (isInfrastructureUnavailable(error)) {
            context.extra.pendingToken = token;
            return true;
          }
          return false; // closes with 4403 Forbidden: a wrong or expired token is refused
        }
      },
      execute: (args: { rootValue: { execute: (args: unknown) => unknown } }) => args.rootValue.execute(args),
      subscribe: (args: { rootValue: { subscribe: (args: unknown) => unknown } }) => args.rootValue.subscribe(args),
      onSubscribe: async (context: WebSocketConnectionContext, _id: string, payload: SubscribePayload) => {
        const { pendingToken } = context.extra;
        if (pendingToken !== undefined && !context.extra.authentication) {
          try {
            context.extra.authentication = await services.authenticator.authenticate(pendingToken);
            context.extra.pendingToken = undefined;
          } catch (error) {
            const appError = isInfrastructureUnavailable(error)
              ? new AppError('SERVICE_UNAVAILABLE', serviceUnavailableMessage)
              : new AppError('UNAUTHENTICATED', 'The token is invalid, expired or revoked.');
            return [toGraphQLError(appError)];
          }
        }
        const request = new Request(`http://localhost${graphqlPath}`, { method: 'POST' });
        const {
          schema: envelopedSchema,
          execute,
          subscribe,
          contextFactory,
          parse,
          validate,
        } = yoga.getEnveloped({
          ...context,
          req: context.extra.request,
          socket: context.extra.socket,
          params: payload,
          request,
          authentication: context.extra.authentication,
        });
        let document: ReturnType<typeof parse>;
        try {
          document = parse(payload.query);
        } catch (error) {
          // A syntax error is the subscriber's mistake: sent as its error, not thrown (graphql-ws closes with 4500).
          if (error instanceof GraphQLError) return [error];
          throw error;
        }
        const errors = validate(envelopedSchema, document, extraWebSocketRules);
        if (errors.length > 0) return errors;
        return {
          schema: envelopedSchema,
          operationName: payload.operationName,
          document,
          variableValues: payload.variables,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe },
        };
      },
    } as never,
    webSocketServer,
  );

  return {
    server,
    async listen(port, host) {
      await new Promise<void>((resolve) => server.listen(port, host, resolve));
      const address = server.address();
      return typeof address === 'object' && address ? address.port : port;
    },
    async close() {
      await webSocketHandler.dispose();
      await new Promise<void>((resolve) => webSocketServer.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function readiness(services: ApiServices) {
  const check = async (probe: () => Promise<unknown>) => {
    try {
      await Promise.race([probe(), new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 2_000))]);
      return { status: 'ok' as const };
    } catch {
      return { status: 'failed' as const };
    }
  };
  return {
    redis: await check(() => services.redis.ping()),
    postgres: await check(() => services.database.ping()),
  };
}

export { httpStatusOf };
