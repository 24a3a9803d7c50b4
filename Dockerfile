# Production image: dependencies installed without dev tools, code run with tsx, as a non-root user.
FROM node:20-bookworm-slim AS dependencies
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=dependencies /app/node_modules ./node_modules
COPY package.json ./
COPY src ./src
COPY seeds ./seeds
COPY migrations ./migrations
COPY scripts ./scripts
USER node
EXPOSE 3000 8082
CMD ["node", "--import", "tsx", "src/main.ts"]
