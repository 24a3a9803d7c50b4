import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import {
  buildSchema,
  type GraphQLField,
  type GraphQLObjectType,
  getIntrospectionQuery,
  getNamedType,
  isEnumType,
  isObjectType,
  isScalarType,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { devToken } from '../../seeds/dev-world.ts';
import { refusalMessages } from '../../src/auth/ai-authorization.ts';
import { loadConfig } from '../../src/config.ts';
import type { DatabaseHandle } from '../../src/db/client.ts';
import { introspectionEnabled } from '../../src/graphql-limits.ts';
import { connectWebSocketClient, graphqlRequest } from '../helpers/graphql-clients.ts';
import { createRedisNamespace } from '../helpers/redis-namespace.ts';
import { createSeededEmbeddedDatabase } from '../helpers/test-database.ts';
import { startTestRuntime, type TestRuntime } from '../helpers/test-runtime.ts';

const namespace = createRedisNamespace();
let database: DatabaseHandle;
/** Default limits, NODE_ENV=test (introspection on). */
let runtime: TestRuntime;
/** GRAPHQL_INTROSPECTION=false. */
let closed: TestRuntime;

const developer = devToken('developer');
const defaults = loadConfig({});

beforeAll(async () => {
  database = await createSeededEmbeddedDatabase();
  runtime = await startTestRuntime({ role: 'api', database, prefix: namespace.prefix });
  closed = await startTestRuntime({
    role: 'api',
    database,
    prefix: namespace.prefix,
    environment: { GRAPHQL_INTROSPECTION: 'false' },
  });
}, 60_000);

afterAll(async () => {
  await closed?.close();
  await runtime?.close();
  await database?.close();
  await namespace.cleanup();
});

/** `__type` with `levels` nested `ofType`: depth `levels + 2`. */
function nestedTypeQuery(levels: number): string {
  // `__type(name:)` is the one cycle a client can reach (`ofType` of `ofType` …); `__schema` is not counted.
  let selection = 'name';
  for (let index = 0; index < levels; index++) selection = `ofType { ${selection} }`;
  return `{ __type(name: "AiMessage") { ${selection} } }`;
}

/**
 * Every field below a type, recursively (each object type once per path, so the selection is finite): the
 * heaviest query a legitimate client can write for one root field.
 */
function fullSelection(type: GraphQLObjectType, seen: ReadonlySet<string> = new Set()): string {
  const parts: string[] = [];
  for (const field of Object.values(type.getFields()) as GraphQLField<unknown, unknown>[]) {
    const named = getNamedType(field.type);
    if (isScalarType(named) || isEnumType(named)) parts.push(field.name);
    else if (isObjectType(named) && !seen.has(named.name)) {
      parts.push(`${field.name} { ${fullSelection(named, new Set([...seen, type.name]))} }`);
    }
  }
  return parts.join(' ');
}

describe('the defaults let every legitimate operation through', () => {
  const schema = buildSchema(readFileSync(new URL('../../schema.graphql', import.meta.url), 'utf8'));

  it('chose the documented defaults', () => {
    expect(defaults).toMatchObject({
      GRAPHQL_MAX_DEPTH: 12,
      GRAPHQL_MAX_COST: 5_000,
      GRAPHQL_MAX_ALIASES: 15,
      GRAPHQL_MAX_BODY_BYTES: 4 * 1_024 * 1_024,
    });
  });

  it('every root field, with every field below it, passes validation', async () => {
    const roots = [
      ['query', schema.getQueryType()],
      ['mutation', schema.getMutationType()],
      ['subscription', schema.getSubscriptionType()],
    ] as const;
    let checked = 0;
    for (const [operation, root] of roots) {
      for (const field of Object.values(root?.getFields() ?? {})) {
        const named = getNamedType(field.type);
        const selection = isObjectType(named) ? ` { ${fullSelection(named)} }` : '';
        // Required arguments as variables of the right type; only validation matters here.
        const required = field.args.filter((argument) => String(argument.type).endsWith('!'));
        const variables = required.map((argument) => `$${argument.name}: ${String(argument.type)}`).join(', ');
        const argumentsText = required.map((argument) => `${argument.name}: $${argument.name}`).join(', ');
        const query = `${operation} Check${variables ? `(${variables})` : ''} { ${field.name}${argumentsText ? `(${argumentsText})` : ''}${selection} }`;
        // Missing variables fail after validation (a request error naming the variable), never with a limit.
        const response = await graphqlRequest(runtime.baseUrl, query, { token: developer });
        const messages = (response.body.errors ?? []).map((error) => error.message).join('\n');
        expect(messages, query).not.toMatch(/limit of \d+ exceeded|introspection/i);
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(13);
  });

  it("GraphiQL's introspection query passes (introspection is on outside production)", async () => {
    const response = await graphqlRequest<{ __schema: { queryType: { name: string } } }>(
      runtime.baseUrl,
      getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, inputValueDeprecation: true }),
    );
    expect(response.status).toBe(200);
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data?.__schema.queryType.name).toBe('Query');
  });
});

describe('depth, cost and aliases are refused with a GraphQL validation error', () => {
  it('depth: 12 levels pass, 13 are refused', async () => {
    const allowed = await graphqlRequest(runtime.baseUrl, nestedTypeQuery(10));
    expect(allowed.body.errors).toBeUndefined();
    const refused = await graphqlRequest(runtime.baseUrl, nestedTypeQuery(11));
    expect(refused.status).toBe(400);
    expect(refused.body.data).toBeUndefined();
    expect(refused.body.errors).toEqual([
      { message: 'Query depth limit of 12 exceeded, found 13.', extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } },
    ]);
  });

  it('cost: one field repeated 6,000 times needs no alias but is refused', async () => {
    const query = `{ currentUser { ${'id '.repeat(6_000)} } }`;
    const refused = await graphqlRequest(runtime.baseUrl, query, { token: developer });
    expect(refused.status).toBe(400);
    expect(refused.body.errors?.[0]?.message).toMatch(/^Query Cost limit of 5000 exceeded, found \d+\.$/);
  });

  it('aliases: 15 pass, 16 are refused', async () => {
    const aliased = (count: number) =>
      `{ ${Array.from({ length: count }, (_, index) => `u${index}: currentUser { id }`).join(' ')} }`;
    const allowed = await graphqlRequest(runtime.baseUrl, aliased(15), { token: developer });
    expect(allowed.body.errors).toBeUndefined();
    const refused = await graphqlRequest(runtime.baseUrl, aliased(16), { token: developer });
    expect(refused.status).toBe(400);
    expect(refused.body.errors?.[0]?.message).toBe('Aliases limit of 15 exceeded, found 16.');
  });

  it('the limits apply to subscriptions over graphql-ws too, as the subscription error', async () => {
    const client = connectWebSocketClient(runtime.baseUrl, developer);
    try {
      const aliases = Array.from({ length: 16 }, (_, index) => `a${index}: __typename`).join(' ');
      const query = `subscription { aiCompletionResponse(userId: "gid://gitlab/User/3") { ${'id '.repeat(6_000)} ${aliases} } }`;
      const error = await new Promise<unknown>((resolve) => {
        client.subscribe({ query }, { next: () => undefined, error: resolve, complete: () => resolve(undefined) });
      });
      expect(JSON.stringify(error)).toMatch(/Query Cost limit of 5000 exceeded/);
    } finally {
      await client.dispose();
    }
  });

  it('a syntax error over graphql-ws is the subscription error, not a closed socket', async () => {
    const client = connectWebSocketClient(runtime.baseUrl, developer);
    try {
      const error = await new Promise<unknown>((resolve) => {
        client.subscribe(
          { query: 'subscription { aiCompletionResponse(' },
          { next: () => undefined, error: resolve, complete: () => resolve(undefined) },
        );
      });
      expect(Array.isArray(error)).toBe(true);
      expect(JSON.stringify(error)).toMatch(/Syntax Error/);
    } finally {
      await client.dispose();
    }
  });
});

describe('introspection switch', () => {
  it('is on in development and test, off in production, and GRAPHQL_INTROSPECTION overrides both', () => {
    const resolve = (environment: Record<string, string>) => introspectionEnabled(loadConfig(environment));
    expect(resolve({ NODE_ENV: 'development' })).toBe(true);
    expect(resolve({ NODE_ENV: 'test' })).toBe(true);
    expect(resolve({ NODE_ENV: 'production' })).toBe(false);
    expect(resolve({ NODE_ENV: 'production', GRAPHQL_INTROSPECTION: 'true' })).toBe(true);
    expect(resolve({ NODE_ENV: 'development', GRAPHQL_INTROSPECTION: 'false' })).toBe(false);
  });

  it('a bad value stops start-up with one line naming the variable', () => {
    expect(() => loadConfig({ GRAPHQL_INTROSPECTION: 'maybe' })).toThrow(
      /^Invalid environment variable GRAPHQL_INTROSPECTION="maybe": /,
    );
    expect(() => loadConfig({ GRAPHQL_MAX_DEPTH: '0' })).toThrow(
      /^Invalid environment variable GRAPHQL_MAX_DEPTH="0": /,
    );
    expect(() => loadConfig({ GRAPHQL_MAX_BODY_BYTES: 'lots' })).toThrow(/GRAPHQL_MAX_BODY_BYTES/);
  });

  it('off: __schema and __type are refused over HTTP, ordinary queries still work', async () => {
    for (const query of ['{ __schema { queryType { name } } }', '{ __type(name: "Query") { name } }']) {
      const response = await graphqlRequest(closed.baseUrl, query);
      expect(response.status, query).toBe(400);
      expect(response.body.errors?.[0]?.message, query).toMatch(/^GraphQL introspection has been disabled/);
    }
    const ordinary = await graphqlRequest<{ currentUser: { username: string } }>(
      closed.baseUrl,
      '{ currentUser { username __typename } }',
      { token: developer },
    );
    expect(ordinary.body.data?.currentUser.username).toBe('developer');
  });

  it('off: introspection is refused over graphql-ws too', async () => {
    const client = connectWebSocketClient(closed.baseUrl, developer);
    try {
      const outcome = await new Promise<unknown>((resolve) => {
        client.subscribe(
          { query: '{ __schema { queryType { name } } }' },
          { next: (value) => resolve(value), error: resolve, complete: () => resolve('complete') },
        );
      });
      expect(JSON.stringify(outcome)).toMatch(/GraphQL introspection has been disabled/);
    } finally {
      await client.dispose();
    }
  });
});

/** Posts raw bytes; `chunked` sends no Content-Length, so only the streaming limit can catch it. */
function postRaw(
  url: string,
  body: Buffer,
  options: { chunked?: boolean; token?: string } = {},
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      url,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json',
          ...(options.chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': body.length }),
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    // The server may answer and close before the whole body is written.
    request.on('error', reject);
    if (options.chunked) {
      for (let offset = 0; offset < body.length; offset += 64 * 1_024)
        request.write(body.subarray(offset, offset + 64 * 1_024));
      request.end();
    } else request.end(body);
  });
}

describe('request body size', () => {
  const chat = (content: string) =>
    Buffer.from(
      JSON.stringify({
        query: 'mutation ($content: String!) { aiAction(input: { chat: { content: $content } }) { requestId errors } }',
        variables: { content },
      }),
    );

  it('a 400,000-character chat message passes even at 6 bytes a character once escaped', async () => {
    const body = chat('\u0001'.repeat(400_000));
    expect(body.length).toBeGreaterThan(2_400_000);
    // outsider: refused by authorization (no Duo seat), which proves the body was read and parsed.
    const response = await postRaw(`${runtime.baseUrl}/api/graphql`, body, { token: devToken('outsider') });
    expect(response.status).toBe(200);
    expect(JSON.parse(response.text).errors[0].message).toBe(refusalMessages.noChatAccess);
  });

  it('a body over GRAPHQL_MAX_BODY_BYTES is answered 413, with or without Content-Length', async () => {
    const body = chat('x'.repeat(defaults.GRAPHQL_MAX_BODY_BYTES));
    for (const chunked of [false, true]) {
      const response = await postRaw(`${runtime.baseUrl}/api/graphql`, body, { chunked, token: developer }).catch(
        (error: unknown) => ({ status: -1, text: String(error) }),
      );
      expect(response.status, `chunked=${chunked}: ${response.text.slice(0, 200)}`).toBe(413);
      expect(JSON.parse(response.text).errors[0]).toMatchObject({
        message: 'Request body too large',
        extensions: { code: 'REQUEST_ENTITY_TOO_LARGE' },
      });
    }
    // The server is still there.
    expect((await fetch(`${runtime.baseUrl}/-/health`)).status).toBe(200);
  });

  it('a WebSocket message over the limit closes that socket (1009) and nothing else', async () => {
    const socket = new WebSocket(`${runtime.baseUrl.replace('http', 'ws')}/api/graphql`, 'graphql-transport-ws');
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(
      JSON.stringify({ type: 'connection_init', payload: { padding: 'x'.repeat(defaults.GRAPHQL_MAX_BODY_BYTES) } }),
    );
    const code = await new Promise<number>((resolve) =>
      socket.once('close', (closeCode: number) => resolve(closeCode)),
    );
    expect(code).toBe(1009);
    expect((await fetch(`${runtime.baseUrl}/-/health`)).status).toBe(200);
  });
});
