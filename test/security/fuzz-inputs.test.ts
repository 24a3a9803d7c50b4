import { readFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import fc from 'fast-check';
import {
  buildSchema,
  type GraphQLInputObjectType,
  type GraphQLInputType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../seeds/dev-world.ts';
import type { DatabaseHandle } from '../../src/db/client.ts';
import { createRedisNamespace } from '../helpers/redis-namespace.ts';
import { createSeededEmbeddedDatabase } from '../helpers/test-database.ts';
import { startTestRuntime, type TestRuntime } from '../helpers/test-runtime.ts';

/*
 * Generated inputs against the real HTTP server: `aiAction` variables (structure-aware from schema.graphql, and
 * plain garbage) and `/v2/completions` bodies (mutated valid bodies, random JSON, invalid JSON, wrong
 * content types). Every answer must be a clean 4xx, a GraphQL error response, or a 200 of the right shape;
 * never a 5xx, never a masked internal error, never a hang. fast-check generates the cases (`fc.sample`, so they
 * run concurrently); a failure prints the seed (FUZZ_SEED reruns it) and the case.
 */

const graphqlCases = 5_000;
const restCases = 5_000;
const concurrency = 8;
const requestTimeoutMs = 10_000;
const seed = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));

const namespace = createRedisNamespace();
let database: DatabaseHandle;
let runtime: TestRuntime;

beforeAll(async () => {
  database = await createSeededEmbeddedDatabase();
  runtime = await startTestRuntime({
    role: 'api',
    database,
    prefix: namespace.prefix,
    environment: {
      // Valid actions are accepted (and enqueued: nothing consumes this queue) up to 300 per user, enough for the
      // write paths after the rate limit (threads, history, enqueue) to meet generated input; then refused by the
      // limit, so the queue does not grow with the case count.
      AI_ACTION_RATE_LIMIT: '300',
      // The completions route parses the body after its rate limit: keep that limit out of the way.
      CODE_SUGGESTIONS_RATE_LIMIT: '100000',
    },
  });
}, 60_000);

afterAll(async () => {
  await runtime?.close();
  await database?.close();
  await namespace.cleanup();
});

// ---------------------------------------------------------------------------------------------------------------
// HTTP

interface Answer {
  status: number;
  contentType: string;
  text: string;
}

interface Case {
  path: string;
  contentType?: string;
  authorization?: string;
  body: string;
  /** What was generated, for the failure message. */
  label: string;
}

function send(agent: Agent, testCase: Case): Promise<Answer> {
  const body = Buffer.from(testCase.body, 'utf8');
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      `${runtime.baseUrl}${testCase.path}`,
      {
        method: 'POST',
        agent,
        headers: {
          accept: 'application/graphql-response+json, application/json',
          'content-length': body.length,
          ...(testCase.contentType ? { 'content-type': testCase.contentType } : {}),
          ...(testCase.authorization ? { authorization: testCase.authorization } : {}),
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            contentType: String(response.headers['content-type'] ?? ''),
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        response.on('error', reject);
      },
    );
    request.setTimeout(requestTimeoutMs, () => request.destroy(new Error(`no answer within ${requestTimeoutMs} ms`)));
    request.on('error', reject);
    request.end(body);
  });
}

/**
 * Runs every case with `concurrency` requests in flight on keep-alive connections; returns the failures (case,
 * answer, reason). One agent per run: sockets left idle by an earlier run (and closed by the server meanwhile)
 * are never reused.
 */
async function runAll(
  cases: Case[],
  judge: (testCase: Case, answer: Answer) => string | undefined,
  statuses: Map<number, number>,
): Promise<string[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const failures: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const testCase = cases[next++] as Case;
      let reason: string | undefined;
      let answer: Answer | undefined;
      try {
        answer = await send(agent, testCase);
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        reason = answer.status >= 500 ? 'server error' : judge(testCase, answer);
      } catch (error) {
        reason = `request failed: ${(error as Error).message}`;
      }
      if (reason && failures.length < 20) {
        failures.push(
          `${reason}\n  case: ${testCase.label.slice(0, 600)}\n  answer: ${answer ? `${answer.status} ${answer.text.slice(0, 400)}` : '-'}`,
        );
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  agent.destroy();
  return failures;
}

// ---------------------------------------------------------------------------------------------------------------
// Values

/** Strings that break naive code: control characters, NUL, bidi overrides, astral and lone surrogates, blanks. */
const nastyString = fc.oneof(
  { arbitrary: fc.string({ unit: 'binary', maxLength: 40 }), weight: 6 },
  { arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }), weight: 3 },
  {
    arbitrary: fc.constantFrom(
      '',
      ' ',
      '\u0000',
      'a\u0000b',
      '\u202eevil',
      '\ud800',
      '😀'.repeat(3),
      '/clear',
      '/reset',
      '/explain',
      '/tests',
      '{{question}}',
      '<script>alert(1)</script>',
      "'; DROP TABLE users; --",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a payload for template engines, sent literally.
      '${process.env}',
      '__proto__',
      'constructor',
    ),
    weight: 3,
  },
);

/** Around a length cap (GitLab's 400,000 characters for chat, 100,000 for code): one per case at most, they are large. */
const stringNear = (cap: number, units: readonly string[] = ['a', '😀', '\u0000', ' ', '\n']) =>
  fc
    .tuple(fc.constantFrom(...units), fc.integer({ min: cap - 10, max: cap + 10 }))
    .map(([unit, count]) => unit.repeat(Math.ceil(count / unit.length)));

/**
 * Units the code-suggestions fuzz repeats up to 100,000 times, including the ones that once made the secret
 * redaction quadratic (`\n`, `a.`, `password`: 10 to 20 s per field before its patterns were bounded).
 */
const redactionSafeUnits = ['a', '😀', '\u0000', ' ', '\n', 'a.', '1.', 'password', 'a-'];

/** Ids the seeded world has, per global-id scalar: the deeper checks (membership, seats, threads) run on them. */
const seededGids: Record<string, string[]> = {
  AiConversationThreadID: [1, 2, 3].map((id) => `gid://gitlab/Ai::Conversation::Thread/${id}`),
  NamespaceID: [1, 2, 3, 4, 5].map((id) => `gid://gitlab/Group/${id}`),
  ProjectID: [1, 2, 3, 4, 5].map((id) => `gid://gitlab/Project/${id}`),
  UserID: [1, 3, 5].map((id) => `gid://gitlab/User/${id}`),
  AiModelID: [
    ...[1, 2, 3, 4, 5, 6, 7].map((id) => `gid://gitlab/Issue/${id}`),
    ...[1, 2, 5].map((id) => `gid://gitlab/Project/${id}`),
    'gid://gitlab/MergeRequest/1',
    'gid://gitlab/Epic/1',
    'gid://gitlab/Ci::Build/1',
    'gid://gitlab/Vulnerability/1',
    'gid://gitlab/Group/1',
  ],
};

const gidTypes = [
  'Issue',
  'Project',
  'Group',
  'User',
  'MergeRequest',
  'Epic',
  'Ci::Build',
  'Ai::Conversation::Thread',
  'Note',
];

/** Wrong ids: unknown, out of range, malformed, of another type. */
const wrongGid = fc.oneof(
  fc
    .tuple(
      fc.constantFrom(...gidTypes),
      fc.oneof(
        fc.integer({ min: -2, max: 12 }).map(String),
        fc.constantFrom('0', '2147483648', '9223372036854775808', '1e3', '1.5', '0x1', ' 1', '1/2', ''),
        fc.string({ maxLength: 8 }),
      ),
    )
    .map(([type, id]) => `gid://gitlab/${type}/${id}`),
  fc.constantFrom(
    'gid://gitlab/Issue',
    'gid://gitlab//1',
    'gid://other/Issue/1',
    'Issue/1',
    '1',
    'gid://gitlab/Issue/1/2',
  ),
  fc.string({ maxLength: 20 }),
);

/** A global id for a scalar: usually one of the seeded world's of the right type. */
function gidFor(scalar: string): fc.Arbitrary<string> {
  const seeded = seededGids[scalar] ?? seededGids.AiModelID ?? [];
  return fc.oneof({ arbitrary: fc.constantFrom(...seeded), weight: 9 }, { arbitrary: wrongGid, weight: 1 });
}

/** Any JSON value: the wrong type for whatever field it lands in. */
const chaos = fc.jsonValue({ maxDepth: 3 });

/** A value for a GraphQL input type: mostly well typed (so validation passes and deeper code runs), sometimes not. */
function valueFor(type: GraphQLInputType, depth = 0): fc.Arbitrary<unknown> {
  const inner = isNonNullType(type) ? type.ofType : type;
  const typed = typedValueFor(inner, depth);
  return fc.oneof(
    { arbitrary: typed, weight: 40 },
    { arbitrary: chaos, weight: 1 },
    { arbitrary: fc.constant(null), weight: 1 },
  );
}

function typedValueFor(type: GraphQLInputType, depth: number): fc.Arbitrary<unknown> {
  if (isNonNullType(type)) return typedValueFor(type.ofType, depth);
  if (isListType(type)) return fc.array(valueFor(type.ofType, depth + 1), { maxLength: depth > 1 ? 1 : 4 });
  if (isEnumType(type)) {
    return fc.oneof(
      { arbitrary: fc.constantFrom(...type.getValues().map((value) => value.name)), weight: 9 },
      { arbitrary: fc.string(), weight: 1 },
    );
  }
  if (isInputObjectType(type)) return inputObjectFor(type, depth + 1);
  switch (type.name) {
    case 'Boolean':
      return fc.boolean();
    case 'Int':
      return fc.oneof(fc.integer(), fc.constantFrom(2 ** 31, -(2 ** 31) - 1, 1.5));
    case 'String':
      return nastyString;
    default:
      // ID (a project id or GID where actions take one) and the global-id scalars.
      return type.name === 'ID'
        ? fc.oneof(fc.constantFrom('1', '2', 'gid://gitlab/Project/1'), fc.uuid(), nastyString)
        : gidFor(type.name);
  }
}

function inputObjectFor(type: GraphQLInputObjectType, depth: number): fc.Arbitrary<Record<string, unknown>> {
  const fields = Object.values(type.getFields());
  const model = Object.fromEntries(fields.map((field) => [field.name, valueFor(field.type, depth)]));
  const required = fields.filter((field) => isNonNullType(field.type)).map((field) => field.name);
  // Usually every required field is there (else only GraphQL's own coercion runs), sometimes not.
  const record = fc.oneof(
    { arbitrary: fc.record(model, { requiredKeys: required }), weight: 8 },
    { arbitrary: fc.record(model, { requiredKeys: [] }), weight: 1 },
  );
  // Extra fields the schema does not know.
  const extra = fc.dictionary(fc.string({ maxLength: 10 }), chaos, { maxKeys: 2 });
  return fc
    .tuple(record, fc.oneof({ arbitrary: fc.constant(null), weight: 11 }, { arbitrary: extra, weight: 1 }))
    .map(([value, extraFields]) => (extraFields && depth < 3 ? { ...value, ...extraFields } : value));
}

// ---------------------------------------------------------------------------------------------------------------
// (a) aiAction

const schema = buildSchema(readFileSync(new URL('../../schema.graphql', import.meta.url), 'utf8'));
const actionInputType = schema.getType('AiActionInput') as GraphQLInputObjectType;
const actionFields = Object.values(actionInputType.getFields()).filter((field) => isInputObjectType(field.type));
const optionFields = Object.values(actionInputType.getFields()).filter((field) => !isInputObjectType(field.type));

/** Structure-aware: one action key usually (sometimes none or two), the options, and extra keys. */
const structuredActionInput = fc
  .tuple(
    fc.oneof(
      // Chat is the action with the most paths (history, threads, slash commands): a third of the cases.
      { arbitrary: fc.constant(actionFields.filter((field) => field.name === 'chat')), weight: 5 },
      { arbitrary: fc.subarray(actionFields, { minLength: 1, maxLength: 1 }), weight: 10 },
      { arbitrary: fc.subarray(actionFields, { maxLength: 2 }), weight: 1 },
    ),
    // Each option (clientSubscriptionId, threadId, conversationType…) one time in five.
    fc
      .tuple(...optionFields.map(() => fc.nat({ max: 4 })))
      .map((rolls) => optionFields.filter((_field, index) => rolls[index] === 0)),
    fc.dictionary(fc.string({ maxLength: 12 }), chaos, { maxKeys: 2 }),
    fc.nat({ max: 9 }).map((roll) => roll === 0),
  )
  .chain(([actions, options, extra, addExtra]) =>
    fc
      .record(Object.fromEntries([...actions, ...options].map((field) => [field.name, valueFor(field.type)])))
      .map((input) => (addExtra ? { ...input, ...extra } : input)),
  );

/** One field at (or just over) its cap; everything else valid. */
const hugeActionInput = fc
  .tuple(fc.constantFrom('chat', 'selectedText', 'explainCode', 'clientSubscriptionId'), stringNear(400_000))
  .map(([where, huge]) => {
    switch (where) {
      case 'chat':
        return { chat: { content: huge } };
      case 'selectedText':
        return { chat: { content: 'Explain this', currentFile: { fileName: 'a.rb', selectedText: huge } } };
      case 'explainCode':
        return { explainCode: { resourceId: 'gid://gitlab/Project/1', messages: [{ role: 'user', content: huge }] } };
      default:
        return { chat: { content: 'hi' }, clientSubscriptionId: huge };
    }
  });

const aiActionQuery =
  'mutation ($input: AiActionInput!) { aiAction(input: $input) { requestId threadId errors clientMutationId } }';

const tokens = [
  ...Array.from({ length: 6 }, () => `Bearer ${devToken('developer')}`),
  `Bearer ${devToken('guest')}`,
  `Bearer ${devToken('outsider')}`,
  `Bearer ${devToken('owner')}`,
  `Bearer ${devToken('expired')}`,
  'Bearer glpat-dev-developer-read',
  'Bearer glpat-AAAAAAAAAAAAAAAAAAAAAAAAA',
  'Basic Zm9vOmJhcg==',
  undefined,
];

/** Bodies that are not a well-formed GraphQL request at all. */
const malformedGraphqlBody = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.constantFrom(
    '',
    '{',
    'null',
    '[]',
    '[{"query":"{ currentUser { id } }"}]',
    '{"query":null}',
    '{"query":42}',
    '{"query":"mutation { aiAction }"}',
    '{"query":"mutation($i: AiActionInput!) { aiAction(input: $i) { errors } }","variables":"{}"}',
    '{"query":"{ currentUser { id } }","extensions":{"persistedQuery":{"version":1,"sha256Hash":"x"}}}',
    `{"query":"{ currentUser { id } }","variables":${'['.repeat(5_000)}${']'.repeat(5_000)}}`,
    `{"query":"mutation($i: AiActionInput!) { aiAction(input: $i) { errors } }","variables":{"i":{"chat":${'{"a":'.repeat(2_000)}1${'}'.repeat(2_000)}}}}`,
  ),
  chaos.map((value) => JSON.stringify(value)),
);

const contentTypes = fc.oneof(
  { arbitrary: fc.constant('application/json'), weight: 20 },
  {
    arbitrary: fc.constantFrom(
      undefined,
      'text/plain',
      'application/graphql',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=xyz',
      'application/json; charset=utf-16',
      'application/xml',
      '*/*',
    ),
    weight: 3,
  },
);

const graphqlCase: fc.Arbitrary<Case> = fc
  .tuple(
    fc.oneof(
      { arbitrary: structuredActionInput.map((input) => ({ input }) as unknown), weight: 210 },
      { arbitrary: chaos.map((input) => ({ input })), weight: 30 },
      { arbitrary: chaos, weight: 15 },
      // About 20 in 5,000: each is up to 1.6 MB.
      { arbitrary: hugeActionInput.map((input) => ({ input })), weight: 1 },
    ),
    fc.oneof({ arbitrary: fc.constant(undefined), weight: 12 }, { arbitrary: malformedGraphqlBody, weight: 2 }),
    contentTypes,
    fc.constantFrom(...tokens),
  )
  .map(([variables, malformed, contentType, authorization]) => {
    const body = malformed ?? JSON.stringify({ query: aiActionQuery, variables });
    return {
      path: '/api/graphql',
      ...(contentType ? { contentType } : {}),
      ...(authorization ? { authorization } : {}),
      body,
      label: `${contentType ?? '(no content-type)'} ${authorization ?? '(anonymous)'} ${body}`,
    };
  });

interface GraphQLBody {
  data?: { aiAction?: { requestId: unknown; errors: unknown } | null } | null;
  errors?: { message?: unknown }[];
}

/** 200/4xx with GraphQL's response shape; an accepted action has a request id and no errors. */
const graphqlOutcomes = { accepted: 0 };

function judgeGraphql(_testCase: Case, answer: Answer): string | undefined {
  // Yoga's answer to a content type it does not read: the status says it all.
  if (answer.status === 415) return undefined;
  let body: GraphQLBody;
  try {
    body = JSON.parse(answer.text) as GraphQLBody;
  } catch {
    return 'the answer is not JSON';
  }
  if (answer.status !== 200 && (answer.status < 400 || answer.status >= 500)) return `unexpected status`;
  const payload = body.data?.aiAction;
  if (body.data && !('aiAction' in body.data) && !body.errors) {
    // A malformed body that still held another valid operation (a query): answered, fine.
    return undefined;
  }
  if (payload) {
    if (typeof payload.requestId !== 'string' || !Array.isArray(payload.errors) || payload.errors.length > 0) {
      return 'an accepted action without a request id';
    }
    graphqlOutcomes.accepted++;
    return undefined;
  }
  if (!Array.isArray(body.errors) || body.errors.length === 0) return 'neither data nor errors';
  for (const error of body.errors) {
    if (typeof error.message !== 'string' || error.message.length === 0) return 'an error without a message';
    if (error.message === 'Unexpected error.') return 'a masked internal error';
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// (b) /v2/completions

const text = fc.oneof(
  { arbitrary: fc.string({ unit: 'binary', maxLength: 60 }), weight: 4 },
  { arbitrary: nastyString, weight: 1 },
);
const maybe = <T>(arbitrary: fc.Arbitrary<T>) =>
  fc.oneof({ arbitrary, weight: 10 }, { arbitrary: chaos, weight: 1 }, { arbitrary: fc.constant(null), weight: 1 });

const completionBody = fc
  .record(
    {
      prompt_version: maybe(fc.constantFrom(1, 2, 3, 0, '1')),
      prompt: maybe(text),
      project_path: maybe(text),
      project_id: maybe(fc.oneof(fc.integer(), fc.constant(2 ** 53))),
      current_file: maybe(
        fc.record(
          {
            file_name: maybe(
              fc.oneof(fc.constantFrom('app.py', 'main.go', 'x.tsx', 'Dockerfile', '.env', '../../etc/passwd'), text),
            ),
            language_identifier: maybe(fc.oneof(fc.constantFrom('python', 'typescriptreact'), text)),
            content_above_cursor: maybe(text),
            content_below_cursor: maybe(text),
          },
          { requiredKeys: [] },
        ),
      ),
      model_provider: maybe(fc.oneof(fc.constantFrom('vertex-ai', 'anthropic', 'litellm'), fc.string())),
      model_name: maybe(text),
      telemetry: maybe(
        fc.array(
          fc.record(
            {
              model_engine: maybe(text),
              model_name: maybe(text),
              lang: maybe(text),
              experiments: maybe(fc.array(fc.record({ name: text, variant: maybe(fc.integer()) }), { maxLength: 2 })),
              requests: maybe(fc.integer({ min: -1, max: 1_000 })),
              accepts: maybe(fc.integer({ min: -1, max: 1_000 })),
              errors: maybe(fc.integer({ min: -1, max: 1_000 })),
            },
            { requiredKeys: [] },
          ),
          { maxLength: 12 },
        ),
      ),
      stream: maybe(
        fc.oneof({ arbitrary: fc.constant(false), weight: 4 }, { arbitrary: fc.constant(true), weight: 1 }),
      ),
      choices_count: maybe(fc.integer({ min: -1, max: 6 })),
      context: maybe(
        fc.array(
          fc.record(
            { type: maybe(fc.constantFrom('file', 'snippet', 'issue')), name: maybe(text), content: maybe(text) },
            { requiredKeys: [] },
          ),
          { maxLength: 4 },
        ),
      ),
    },
    { requiredKeys: ['current_file'] },
  )
  .chain((body) =>
    fc
      .dictionary(fc.string({ maxLength: 10 }), chaos, { maxKeys: 2 })
      .map((extra) => ({ ...extra, ...body }) as Record<string, unknown>),
  );

/** 45 × 100,000 characters: valid items, 4.5 MB together. */
const oversized = 'y'.repeat(100_000);

const validCompletionBody = fc.record({
  prompt_version: fc.constant(1),
  current_file: fc.record({
    file_name: fc.constantFrom('app.py', 'main.go', 'index.ts'),
    content_above_cursor: fc.string({ maxLength: 200 }),
    content_below_cursor: fc.string({ maxLength: 200 }),
  }),
});

/** One field at (or just over) its cap, or a body over REST_MAX_BODY_BYTES (4 MiB). */
const hugeCompletionBody = fc.oneof(
  fc
    .tuple(
      validCompletionBody,
      fc.constantFrom('content_above_cursor', 'content_below_cursor'),
      stringNear(100_000, redactionSafeUnits),
    )
    .map(([body, field, huge]) => JSON.stringify({ ...body, current_file: { ...body.current_file, [field]: huge } })),
  validCompletionBody.map((body) =>
    JSON.stringify({
      ...body,
      context: Array.from({ length: 45 }, () => ({ type: 'file', name: 'f', content: oversized })),
    }),
  ),
);

const invalidJson = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  validCompletionBody.chain((body) =>
    fc.nat({ max: 60 }).map((cut) => JSON.stringify(body).slice(0, Math.max(1, cut))),
  ),
  validCompletionBody.map((body) => `${JSON.stringify(body)} trailing`),
  validCompletionBody.map((body) => `\ufeff${JSON.stringify(body)}`),
  fc.constantFrom('', 'null', 'true', '[]', '"string"', '1e309', `${'['.repeat(20_000)}${']'.repeat(20_000)}`),
);

const restCase: fc.Arbitrary<Case> = fc
  .tuple(
    fc.oneof(
      { arbitrary: completionBody.map((body) => JSON.stringify(body)), weight: 60 },
      { arbitrary: validCompletionBody.map((body) => JSON.stringify(body)), weight: 15 },
      { arbitrary: chaos.map((value) => JSON.stringify(value)), weight: 10 },
      { arbitrary: invalidJson, weight: 15 },
      { arbitrary: hugeCompletionBody, weight: 1 },
    ),
    contentTypes,
    fc.constantFrom('/v2/completions', '/v2/code/completions'),
    fc.oneof(
      { arbitrary: fc.constant(`Bearer ${devToken('developer')}`), weight: 10 },
      { arbitrary: fc.constantFrom(...tokens), weight: 2 },
    ),
  )
  .map(([body, contentType, path, authorization]) => ({
    path,
    ...(contentType ? { contentType } : {}),
    ...(authorization ? { authorization } : {}),
    body,
    label: `${path} ${contentType ?? '(no content-type)'} ${authorization ?? '(anonymous)'} ${body}`,
  }));

/** The gateway's answers: a suggestion (JSON or SSE), a FastAPI-style 422, or an auth/limit refusal. */
function judgeRest(_testCase: Case, answer: Answer): string | undefined {
  if (answer.status === 200 && answer.contentType.startsWith('text/event-stream')) return undefined;
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(answer.text) as Record<string, unknown>;
  } catch {
    return 'the answer is not JSON';
  }
  switch (answer.status) {
    case 200:
      return body.object === 'text_completion' && Array.isArray(body.choices) ? undefined : 'a 200 of the wrong shape';
    case 422:
      return Array.isArray(body.detail) && body.detail.length > 0 ? undefined : 'a 422 without field errors';
    case 400:
    case 401:
    case 403:
    case 413:
    case 429:
      return typeof body.error === 'string' || typeof body.detail === 'string'
        ? undefined
        : 'a refusal without a reason';
    default:
      return 'unexpected status';
  }
}

// ---------------------------------------------------------------------------------------------------------------

describe(`fuzzing the HTTP inputs (seed ${seed})`, () => {
  const timing = { generation: 0, requests: 0, cases: 0 };

  afterAll(() => {
    const seconds = (milliseconds: number) => (milliseconds / 1_000).toFixed(1);
    console.log(
      `fuzz: ${timing.cases} cases; generation ${seconds(timing.generation)} s, requests ${seconds(timing.requests)} s (seed ${seed}; rerun with FUZZ_SEED=${seed})`,
    );
  });

  async function fuzz(
    name: string,
    arbitrary: fc.Arbitrary<Case>,
    runs: number,
    runSeed: number,
    judge: (testCase: Case, answer: Answer) => string | undefined,
  ): Promise<Map<number, number>> {
    const generationStart = performance.now();
    const cases = fc.sample(arbitrary, { numRuns: runs, seed: runSeed });
    const requestsStart = performance.now();
    const statuses = new Map<number, number>();
    const failures = await runAll(cases, judge, statuses);
    timing.generation += requestsStart - generationStart;
    timing.requests += performance.now() - requestsStart;
    timing.cases += cases.length;
    console.log(`${name}: ${cases.length} cases, statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
    expect(failures, `seed ${seed}`).toEqual([]);
    return statuses;
  }

  it(`(a) aiAction: ${graphqlCases} generated requests`, async () => {
    const statuses = await fuzz('aiAction', graphqlCase, graphqlCases, seed, judgeGraphql);
    console.log(`aiAction: ${graphqlOutcomes.accepted} accepted`);
    // Each answer class was reached: the generators are not stuck on one refusal.
    expect(statuses.get(200) ?? 0).toBeGreaterThan(100);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(100);
  }, 120_000);

  it(`(b) /v2/completions: ${restCases} generated bodies`, async () => {
    const statuses = await fuzz('/v2/completions', restCase, restCases, seed + 1, judgeRest);
    expect(statuses.get(200) ?? 0).toBeGreaterThan(100);
    expect(statuses.get(422) ?? 0).toBeGreaterThan(100);
  }, 120_000);

  it('the server still answers afterwards', async () => {
    expect((await fetch(`${runtime.baseUrl}/-/health`)).status).toBe(200);
    expect((await fetch(`${runtime.baseUrl}/-/readiness`)).status).toBe(200);
    const response = await fetch(`${runtime.baseUrl}/api/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${devToken('developer')}` },
      body: JSON.stringify({ query: '{ currentUser { username } }' }),
    });
    expect(await response.json()).toEqual({ data: { currentUser: { username: 'developer' } } });
  });
});
