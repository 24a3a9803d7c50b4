import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { environmentSchema, loadConfig } from '../../src/config.ts';
import {
  loadModelWorkerConfig,
  environmentSchema as modelWorkerEnvironmentSchema,
} from '../../src/model-worker/model-worker-config.ts';
import { restEnvironmentSchema } from '../../src/rest/rest-config.ts';

/*
 * Docker is not available where the tests run, so docker-compose.yaml and the Dockerfile are checked statically:
 * what they name must exist in this repository, and the environment they set must parse with the service's own
 * configuration code.
 */

const root = path.resolve(import.meta.dirname, '../..');

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string | number | boolean | null>;
  ports?: string[];
  expose?: string[];
  profiles?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  deploy?: { replicas?: number };
  stop_grace_period?: string;
}

const compose = parse(readFileSync(path.join(root, 'docker-compose.yaml'), 'utf8'), { merge: true }) as {
  services: Record<string, ComposeService>;
};
const services = compose.services;
const dockerfile = readFileSync(path.join(root, 'Dockerfile'), 'utf8');
const packageJson = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
};

/** `${NAME:-default}` as compose resolves it with nothing set in the shell. */
function withDefaults(value: unknown): string {
  return String(value ?? '').replace(/\$\{[A-Z0-9_]+(?::?-([^}]*))?\}/g, (_match, fallback: string | undefined) =>
    fallback === undefined ? '' : fallback,
  );
}

function environmentOf(service: ComposeService): Record<string, string> {
  return Object.fromEntries(
    Object.entries(service.environment ?? {}).map(([key, value]) => [key, withDefaults(value)]),
  );
}

/** The entry file of a `node --import tsx <file>` command. */
function entryOf(service: ComposeService): string | undefined {
  return service.command?.find((part) => part.endsWith('.ts'));
}

const appServices = Object.entries(services).filter(([, service]) => service.build !== undefined);
const knownVariables = new Set([
  ...Object.keys(environmentSchema.shape),
  ...Object.keys(restEnvironmentSchema.shape),
  ...Object.keys(modelWorkerEnvironmentSchema.shape),
]);

describe('docker-compose.yaml', () => {
  it('runs redis, pgvector Postgres, two API replicas, a worker, and a gpu profile with vLLM and the model worker', () => {
    expect(Object.keys(services).sort()).toEqual(['api', 'model-worker', 'postgres', 'redis', 'vllm', 'worker']);
    expect(services.redis?.image).toMatch(/^redis:7/);
    expect(services.redis?.command).toEqual(expect.arrayContaining(['--maxmemory-policy', 'noeviction']));
    expect(services.postgres?.image).toMatch(/^pgvector\/pgvector:pg1[6-9]$/);
    expect(services.api?.deploy?.replicas).toBe(2);
    expect(services.vllm?.image).toMatch(/^vllm\/vllm-openai:/);
    expect(services.vllm?.profiles).toEqual(['gpu']);
    expect(services['model-worker']?.profiles).toEqual(['gpu']);
    for (const name of ['api', 'worker', 'postgres', 'redis']) expect(services[name]?.profiles).toBeUndefined();
  });

  it('starts each app service with an entry point that exists, the same one its npm script runs', () => {
    const expected = {
      api: ['src/start-api.ts', 'start:api'],
      worker: ['src/start-worker.ts', 'start:worker'],
      'model-worker': ['src/model-worker/start-model-worker.ts', 'start:model-worker'],
    } as const;
    expect(appServices.map(([name]) => name).sort()).toEqual(Object.keys(expected).sort());
    for (const [name, [entry, script]] of Object.entries(expected)) {
      const service = services[name] as ComposeService;
      expect(service.command?.slice(0, 3)).toEqual(['node', '--import', 'tsx']);
      expect(entryOf(service)).toBe(entry);
      expect(existsSync(path.join(root, entry))).toBe(true);
      expect(packageJson.scripts[script]).toBe(`tsx ${entry}`);
    }
  });

  it('sets on app services only variables the configuration modules read', () => {
    for (const [name, service] of appServices) {
      const unknown = Object.keys(service.environment ?? {}).filter((variable) => !knownVariables.has(variable));
      expect({ service: name, unknown }).toEqual({ service: name, unknown: [] });
    }
  });

  it('sets values the configuration accepts, for production, with no development seeding', () => {
    for (const name of ['api', 'worker']) {
      const environment = environmentOf(services[name] as ComposeService);
      const config = loadConfig(environment);
      expect(config.NODE_ENV).toBe('production');
      expect(config.SEED_ON_START).toBe(false);
      expect(config.HOST).toBe('0.0.0.0');
      expect(config.redisUrl).toBe('redis://redis:6379');
      expect(config.DATABASE_URL).toMatch(/^postgres:\/\/duo:[^@]+@postgres:5432\/duo$/);
    }
    const modelWorker = loadModelWorkerConfig(environmentOf(services['model-worker'] as ComposeService));
    expect(modelWorker.MODEL_SERVER_URL).toBe('http://vllm:8000/v1');
    // The model worker's queue is named after the model: it must be the one vLLM serves.
    expect(services.vllm?.command?.map(withDefaults)).toContain(modelWorker.MODEL_NAME);
    const slots = services.vllm?.command?.map(withDefaults);
    expect(slots?.[(slots?.indexOf('--max-num-seqs') ?? -2) + 1]).toBe(String(modelWorker.MODEL_WORKER_CONCURRENCY));
  });

  it('publishes the API port, keeps metrics inside the network, and health-checks every service', () => {
    const api = loadConfig(environmentOf(services.api as ComposeService));
    expect(services.api?.ports).toEqual([`3000-3001:${api.PORT}`]);
    expect(services.api?.expose).toEqual([String(api.METRICS_PORT)]);
    const worker = loadConfig(environmentOf(services.worker as ComposeService));
    // A split worker serves metrics on METRICS_PORT + 1 (src/bootstrap.ts).
    expect(services.worker?.expose).toEqual([String(worker.METRICS_PORT + 1)]);
    expect(services.worker?.ports).toBeUndefined();
    expect(services.api?.healthcheck?.test.join(' ')).toContain(`127.0.0.1:${api.PORT}/-/readiness`);
    expect(services.worker?.healthcheck?.test.join(' ')).toContain(`127.0.0.1:${worker.METRICS_PORT + 1}/metrics`);
    for (const [name, service] of Object.entries(services)) {
      expect({ name, healthcheck: Boolean(service.healthcheck?.test?.length) }).toEqual({ name, healthcheck: true });
    }
  });

  it('waits for healthy dependencies that exist, and gives workers time to finish their jobs on stop', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const [dependency, { condition }] of Object.entries(service.depends_on ?? {})) {
        expect({ name, dependency, exists: dependency in services, condition }).toEqual({
          name,
          dependency,
          exists: true,
          condition: 'service_healthy',
        });
      }
    }
    for (const [name, service] of appServices) {
      const shutdownMs = Number(environmentOf(service).SHUTDOWN_TIMEOUT_MS ?? 10_000);
      const graceSeconds = Number.parseInt(service.stop_grace_period ?? '10s', 10);
      expect({ name, enough: graceSeconds * 1_000 >= shutdownMs + 5_000 }).toEqual({ name, enough: true });
    }
  });
});

describe('Dockerfile', () => {
  const stages = dockerfile.split(/^FROM /m).slice(1);
  const finalStage = stages.at(-1) ?? '';

  it('builds in two stages and installs only production dependencies', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(dockerfile).not.toMatch(/npm (?:install|ci)(?![^\n]*--omit=dev)/);
    expect(finalStage).toMatch(/COPY --from=dependencies \/app\/node_modules/);
  });

  it('runs as a non-root user, with a health check and an entry point that exists', () => {
    const user = /^USER (\S+)/m.exec(finalStage)?.[1];
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user);
    expect(finalStage).toMatch(/^HEALTHCHECK [^\n]*\\\n\s+CMD [^\n]*\/-\/readiness/m);
    const command = /^CMD (\[.*\])$/m.exec(finalStage)?.[1];
    const entry = (JSON.parse(command ?? '[]') as string[]).find((part) => part.endsWith('.ts')) ?? '';
    expect(existsSync(path.join(root, entry))).toBe(true);
    expect(finalStage).toMatch(/^EXPOSE 3000 8082$/m);
  });

  it('copies every folder the service reads at run time', () => {
    const copied = [...finalStage.matchAll(/^COPY (?!--from)(\S+) \.\/\S*$/gm)].map((match) => match[1]);
    // src and seeds are code; web is bundled on request; prompts, config and migrations are read from disk.
    for (const folder of ['src', 'web', 'prompts', 'config', 'migrations', 'seeds']) {
      expect(copied).toContain(folder);
      expect(existsSync(path.join(root, folder))).toBe(true);
    }
  });

  it('keeps local state and secrets out of the build context', () => {
    const ignored = readFileSync(path.join(root, '.dockerignore'), 'utf8').split('\n');
    for (const entry of ['node_modules', '.data', '.env', '.git']) expect(ignored).toContain(entry);
  });
});
