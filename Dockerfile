# Production image, two stages: production dependencies only (no dev tools), then the sources, run by a non-root
# user. tsx, a production dependency, runs the TypeScript directly, and the esbuild it runs on bundles the chat
# page (web/) in memory on its first request, so there is no build step. Default command: API and workers in one
# process; docker-compose.yaml runs them apart (src/start-api.ts, src/start-worker.ts).

FROM node:20-bookworm-slim AS dependencies
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:20-bookworm-slim AS runtime
# HOST: listen on the container's interfaces, not only its loopback (the service's own default is 127.0.0.1).
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    METRICS_PORT=8082 \
    SEED_ON_START=false
WORKDIR /app
# Owned by root and read-only to the process: a compromised process cannot rewrite the code it runs.
COPY --from=dependencies /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY src ./src
COPY web ./web
COPY prompts ./prompts
COPY config ./config
COPY migrations ./migrations
COPY seeds ./seeds
COPY scripts ./scripts
USER node
EXPOSE 3000 8082
# Readiness of the default (all-in-one) command: Redis and Postgres answer. Compose sets its own per service.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/-/readiness').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "--import", "tsx", "src/main.ts"]
