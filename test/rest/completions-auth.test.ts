import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../seeds/dev-world.ts';
import type { DatabaseHandle } from '../../src/db/client.ts';
import { createMetrics } from '../../src/metrics/create-metrics.ts';
import { createRedisNamespace } from '../helpers/redis-namespace.ts';
import { createSeededEmbeddedDatabase } from '../helpers/test-database.ts';
import { postJson, type RestHarness, seedExampleBody, startRestHarness } from './rest-harness.ts';

const namespace = createRedisNamespace();
let database: DatabaseHandle;
let harness: RestHarness;
let gitlab: Server;
let gitlabUrl: string;
const counters = { jwks: 0, aiAssist: 0 };
const signing = generateKeyPairSync('rsa', { modulusLength: 2048 });
const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 });

function jwt(claims: Record<string, unknown>, key: KeyObject = signing.privateKey, kid = 'key-1'): string {
  const header = Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid })).toString('base64url');
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const signature = sign('RSA-SHA256', Buffer.from(`${header}.${payload}`), key).toString('base64url');
  return `${header}.${payload}.${signature}`;
}

function claims(overrides: Record<string, unknown> = {}) {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: gitlabUrl,
    aud: 'gitlab-code-suggestions',
    sub: 'gitlab-user-77',
    iat: now,
    nbf: now - 5,
    exp: now + 3600,
    jti: 'c0ffee',
    gitlab_realm: 'self-managed',
    ...overrides,
  };
}

beforeAll(async () => {
  // A stand-in GitLab: OIDC discovery, the JWKS, and `/api/v4/ml/ai-assist` for the external check.
  gitlab = createServer((request, response) => {
    const json = (status: number, body: unknown) =>
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (request.url === '/.well-known/openid-configuration') {
      return json(200, { issuer: gitlabUrl, jwks_uri: `${gitlabUrl}/oauth/discovery/keys` });
    }
    if (request.url === '/oauth/discovery/keys') {
      counters.jwks++;
      return json(200, {
        keys: [{ ...signing.publicKey.export({ format: 'jwk' }), kid: 'key-1', use: 'sig', alg: 'RS256' }],
      });
    }
    if (request.url === '/api/v4/ml/ai-assist') {
      counters.aiAssist++;
      const allowed = request.headers.authorization === 'Bearer gitlab-com-token-allowed';
      return allowed ? json(200, { user_is_allowed: true }) : json(401, { message: '401 Unauthorized' });
    }
    json(404, { message: '404 Not Found' });
  });
  await new Promise<void>((resolve) => gitlab.listen(0, '127.0.0.1', resolve));
  const address = gitlab.address();
  gitlabUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  database = await createSeededEmbeddedDatabase();
  harness = await startRestHarness({
    database,
    prefix: namespace.prefix,
    environment: {
      GITLAB_URL: gitlabUrl,
      GITLAB_API_URL: `${gitlabUrl}/api/v4/`,
      CODE_SUGGESTIONS_RATE_LIMIT: '100000',
    },
  });
});

afterAll(async () => {
  await harness?.close();
  await database?.close();
  gitlab?.closeAllConnections();
  await new Promise<void>((resolve) => (gitlab ? gitlab.close(() => resolve()) : resolve()));
  await namespace.cleanup();
});

function completions(headers: Record<string, string>) {
  return postJson(`${harness.baseUrl}/v2/completions`, seedExampleBody(), headers);
}

describe('POST /v2/completions: authentication with our tokens', () => {
  it('401 "No authorization header presented" without a header', async () => {
    const response = await completions({});
    expect(response.status).toBe(401);
    expect(response.body).toEqual({ error: 'No authorization header presented' });
  });

  it('401 "Invalid authorization header" for a scheme other than Bearer', async () => {
    for (const authorization of [`Basic ${devToken('developer')}`, 'Bearer', 'Bearer a b', devToken('developer')]) {
      const response = await completions({ authorization });
      expect(response.status, authorization).toBe(401);
      expect(response.body).toEqual({ error: 'Invalid authorization header' });
    }
  });

  it('401 "Forbidden by auth provider" for a wrong or expired token', async () => {
    for (const token of ['glpat-not-a-token', devToken('expired')]) {
      const response = await completions({ authorization: `Bearer ${token}` });
      expect(response.status, token).toBe(401);
      expect(response.body).toEqual({ error: 'Forbidden by auth provider' });
    }
  });

  it('accepts Bearer (case-insensitive scheme) and PRIVATE-TOKEN, scope api or ai_features', async () => {
    const variants: Record<string, string>[] = [
      { authorization: `Bearer ${devToken('developer')}` },
      { authorization: `bearer ${devToken('developer')}` },
      { 'private-token': devToken('developer') },
      { authorization: 'Bearer glpat-dev-developer-ai' },
    ];
    for (const headers of variants) {
      expect((await completions(headers)).status, JSON.stringify(headers)).toBe(200);
    }
  });

  it('403 with the gateway detail for a read_api-only token', async () => {
    const response = await completions({ authorization: 'Bearer glpat-dev-developer-read' });
    expect(response.status).toBe(403);
    expect(response.body).toEqual({ detail: 'Unauthorized to access code completions' });
  });
});

describe('POST /v2/completions: OIDC JWTs (X-Gitlab-Authentication-Type: oidc)', () => {
  const oidc = (token: string) =>
    completions({ authorization: `Bearer ${token}`, 'x-gitlab-authentication-type': 'oidc' });

  it('accepts a JWT signed by a key of the JWKS, and fetches the JWKS once', async () => {
    const before = counters.jwks;
    expect((await oidc(jwt(claims()))).status).toBe(200);
    expect((await oidc(jwt(claims({ sub: 'gitlab-user-78' })))).status).toBe(200);
    expect(counters.jwks - before).toBeLessThanOrEqual(1);
  });

  it('refuses a bad signature, an unknown key, an expired or early token, a wrong audience or issuer', async () => {
    const good = jwt(claims());
    const [header, payload] = good.split('.');
    const tampered = `${header}.${Buffer.from(JSON.stringify(claims({ sub: 'admin' }))).toString('base64url')}.${good.split('.')[2]}`;
    const cases: Record<string, string> = {
      'signed by another key': jwt(claims(), stranger.privateKey),
      'unknown kid': jwt(claims(), stranger.privateKey, 'key-404'),
      tampered,
      expired: jwt(claims({ exp: Math.floor(Date.now() / 1000) - 1 })),
      'not yet valid': jwt(claims({ nbf: Math.floor(Date.now() / 1000) + 600 })),
      'wrong audience': jwt(claims({ aud: 'someone-else' })),
      'wrong issuer': jwt(claims({ iss: 'https://evil.example.com' })),
      'alg none': `${Buffer.from('{"alg":"none"}').toString('base64url')}.${payload}.`,
      garbage: 'not.a.jwt',
    };
    for (const [name, token] of Object.entries(cases)) {
      const response = await oidc(token);
      expect(response.status, name).toBe(401);
      expect(response.body, name).toEqual({ error: 'Forbidden by auth provider' });
    }
  });

  it('an OIDC header with one of our tokens is refused (the token is not a JWT)', async () => {
    expect((await oidc(devToken('developer'))).status).toBe(401);
  });
});

describe('POST /v2/completions: the external GitLab check', () => {
  it('asks GitLab about unknown tokens and caches the answer for an hour (denials too)', async () => {
    const before = counters.aiAssist;
    expect((await completions({ authorization: 'Bearer gitlab-com-token-allowed' })).status).toBe(200);
    expect((await completions({ authorization: 'Bearer gitlab-com-token-allowed' })).status).toBe(200);
    expect((await completions({ authorization: 'Bearer gitlab-com-token-denied' })).status).toBe(401);
    expect((await completions({ authorization: 'Bearer gitlab-com-token-denied' })).status).toBe(401);
    expect(counters.aiAssist - before).toBe(2);
  });

  it('never logs a token', async () => {
    const logs = harness.logLines().join('\n');
    expect(logs).not.toContain('gitlab-com-token-allowed');
    expect(logs).not.toContain(devToken('developer'));
  });
});

describe('AUTH_BYPASS_EXTERNAL', () => {
  it('lets every request through as the debug user and says so at fatal level', async () => {
    const bypass = await startRestHarness({
      database,
      prefix: namespace.prefix,
      environment: { AUTH_BYPASS_EXTERNAL: 'true' },
    });
    try {
      const response = await postJson(`${bypass.baseUrl}/v2/completions`, seedExampleBody());
      expect(response.status).toBe(200);
      const fatal = bypass.logLines().map((line) => JSON.parse(line) as { level: number; msg: string });
      expect(fatal.some((line) => line.level === 60 && line.msg.includes('AUTH_BYPASS_EXTERNAL'))).toBe(true);
    } finally {
      await bypass.close();
    }
  });
});

describe('POST /v2/completions: 60 requests per user per minute', () => {
  // A namespace of its own: the tests above sent requests as the same users under a higher limit.
  const limitNamespace = createRedisNamespace();
  const metrics = createMetrics({ defaultMetrics: false });
  let replicas: RestHarness[] = [];

  beforeAll(async () => {
    // Two replicas on one Redis prefix: the limit must hold across them.
    replicas = await Promise.all([
      startRestHarness({ database, prefix: limitNamespace.prefix, metrics }),
      startRestHarness({ database, prefix: limitNamespace.prefix, metrics: createMetrics({ defaultMetrics: false }) }),
    ]);
  });

  afterAll(async () => {
    for (const replica of replicas) await replica.close();
    await limitNamespace.cleanup();
  });

  it('allows 60 (spread over two replicas), refuses the 61st with GitLab’s 429, and keeps other users apart', async () => {
    const send = (replica: RestHarness, user: string) =>
      postJson(`${replica.baseUrl}/v2/completions`, seedExampleBody(), { authorization: `Bearer ${devToken(user)}` });
    const statuses = await Promise.all(
      Array.from({ length: 60 }, (_, index) =>
        send(replicas[index % 2] as RestHarness, 'developer').then((r) => r.status),
      ),
    );
    expect(statuses.every((status) => status === 200)).toBe(true);

    const refused = await send(replicas[0] as RestHarness, 'developer');
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({ error: 'This endpoint has been requested too many times. Try again later.' });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await send(replicas[1] as RestHarness, 'developer')).status).toBe(429);

    expect((await send(replicas[0] as RestHarness, 'owner')).status).toBe(200);
    expect(await limitNamespace.countKeys('rate_limit:*')).toBe(2);
    expect(await metrics.registry.metrics()).toMatch(
      /rate_limited_requests_total\{endpoint="code_suggestions_api_endpoint"\} 1/,
    );
  });
});
