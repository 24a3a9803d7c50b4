import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../seeds/dev-world.ts';
import type { DatabaseHandle } from '../../src/db/client.ts';
import { createFakeProvider } from '../../src/llm/providers/fake/fake-provider.ts';
import { aiPayloadFields } from '../../src/logging/ai-payload-logging.ts';
import { redactSecrets, redactSecretsDetailed } from '../../src/logging/redact-secrets.ts';
import { createMetrics } from '../../src/metrics/create-metrics.ts';
import { createMetricsServer, type MetricsServer } from '../../src/metrics/create-metrics-server.ts';
import { InputModerationError } from '../../src/moderation/input-moderation-error.ts';
import { createInputModerator } from '../../src/moderation/input-moderator.ts';
import { createOpenAIModerationClassifier } from '../../src/moderation/moderation-classifier.ts';
import { createRedisNamespace } from '../helpers/redis-namespace.ts';
import { createSeededEmbeddedDatabase } from '../helpers/test-database.ts';
import {
  createInMemoryFeatureFlags,
  fakeRegistry,
  postJson,
  type RestHarness,
  seedExampleBody,
  startRestHarness,
} from './rest-harness.ts';

const namespace = createRedisNamespace();
const developer = { id: 3, headers: { authorization: `Bearer ${devToken('developer')}` } };
const owner = { id: 2, headers: { authorization: `Bearer ${devToken('owner')}` } };
const marker = 'PROMPT_MARKER_7f3a9c';
const plantedSecrets = {
  token: 'glpat-abcdefghijklmnopqrstuvwxyz012345',
  email: 'jane.doe@corp.example.com',
  aws: 'AKIAIOSFODNN7EXAMPLE',
};
let database: DatabaseHandle;
let harness: RestHarness;
let metricsServer: MetricsServer;
const fake = createFakeProvider({ respond: () => `result = ${marker}_ANSWER\n` });
const flags = createInMemoryFeatureFlags({ users: { expanded_ai_logging: [developer.id] } });
const metrics = createMetrics({ defaultMetrics: false });

beforeAll(async () => {
  database = await createSeededEmbeddedDatabase();
  harness = await startRestHarness({
    database,
    prefix: namespace.prefix,
    flags,
    metrics,
    providers: fakeRegistry(fake),
    environment: {
      CODE_SUGGESTIONS_RATE_LIMIT: '1000',
      MODERATION_CODE_SUGGESTIONS: 'rules',
      MODERATION_BLOCKED_PATTERNS: JSON.stringify(['forbidden[-_ ]?incantation']),
    },
  });
  metricsServer = await createMetricsServer(metrics, 0);
});

afterAll(async () => {
  await metricsServer?.close();
  await harness?.close();
  await database?.close();
  await namespace.cleanup();
});

function bodyWithCode(above: string) {
  const body = seedExampleBody();
  body.current_file.content_above_cursor = above;
  return body;
}

async function scrape(): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${metricsServer.port}/metrics`);
  expect(response.status).toBe(200);
  return response.text();
}

function sample(text: string, pattern: RegExp): number {
  const match = pattern.exec(text);
  return match ? Number(match[1]) : 0;
}

describe('metrics', () => {
  it('are served on the metrics port and move with traffic', async () => {
    const before = await scrape();
    const requests = /http_requests_total\{route="\/v2\/completions",method="POST",status="200"\} (\d+)/;
    const language = /code_suggestions_prompt_language\{lang="python",extension="py"\} (\d+)/;
    const accepts = /code_suggestions_accepts\{model_engine="vertex-ai",model_name="code-gecko"\} (\d+)/;
    const headerAccepts = /code_suggestions_accepts\{model_engine="",model_name=""\} (\d+)/;
    const cost =
      /gitlab_cloud_cost_spend_entry_total\{vendor="fake",model="fake-model",item="fake-model\/prompt",unit="tokens",feature_category="code_suggestions"\} (\d+)/;

    expect((await postJson(`${harness.baseUrl}/v2/completions`, seedExampleBody(), owner.headers)).status).toBe(200);
    const withHeaders = await postJson(`${harness.baseUrl}/v2/completions`, seedExampleBody(), {
      ...owner.headers,
      'x-gitlab-cs-requests': '4',
      'x-gitlab-cs-accepts': '3',
      'x-gitlab-cs-errors': '1',
    });
    expect(withHeaders.status).toBe(200);
    const after = await scrape();

    expect(sample(after, requests) - sample(before, requests)).toBe(2);
    expect(sample(after, language) - sample(before, language)).toBe(2);
    // Body telemetry once (the second request's headers win over its body).
    expect(sample(after, accepts) - sample(before, accepts)).toBe(1);
    expect(sample(after, headerAccepts) - sample(before, headerAccepts)).toBe(3);
    expect(sample(after, cost)).toBeGreaterThan(sample(before, cost));
    expect(after).toMatch(
      /code_suggestions_inference_request_duration_seconds_count\{model_engine="fake",model_name="fake-model"\} \d+/,
    );
    expect(after).toMatch(/http_request_duration_seconds_bucket\{le="0.005",route="\/v2\/completions",method="POST"\}/);
  });

  it('expose the worker-facing operations: jobs, first chunk, tokens, queue depth, rate limits', async () => {
    metrics.observeJob('chat', 2, 'success');
    metrics.observeJob('chat', 45, 'success');
    metrics.observeJob('chat', 1, 'error');
    metrics.observeFirstChunk('chat', 0.4);
    metrics.countTokens(
      { vendor: 'anthropic', model: 'claude', item: 'claude/prompt', unit: 'tokens', featureCategory: 'duo_chat' },
      120,
    );
    metrics.setQueueDepth('llm_completion', 7);
    metrics.countRateLimited('ai_action');
    const text = await scrape();
    expect(text).toMatch(/gitlab_sli_llm_completion_apdex_total\{action="chat"\} 3/);
    expect(text).toMatch(/gitlab_sli_llm_completion_apdex_success_total\{action="chat"\} 1/);
    expect(text).toMatch(/gitlab_sli_llm_completion_error_total\{action="chat"\} 1/);
    expect(text).toMatch(/gitlab_sli_llm_completion_duration_seconds_bucket\{le="30",action="chat"\} 2/);
    expect(text).toMatch(/ai_action_first_chunk_seconds_count\{action="chat"\} 1/);
    expect(text).toMatch(
      /gitlab_cloud_cost_spend_entry_total\{vendor="anthropic",model="claude",item="claude\/prompt",unit="tokens",feature_category="duo_chat"\} 120/,
    );
    expect(text).toMatch(/ai_queue_depth\{queue="llm_completion"\} 7/);
    expect(text).toMatch(/rate_limited_requests_total\{endpoint="ai_action"\} 1/);
    expect((await fetch(`http://127.0.0.1:${metricsServer.port}/other`)).status).toBe(404);
  });
});

describe('logs', () => {
  it('hold sizes but no prompt or answer text unless expanded_ai_logging is on for the user', async () => {
    const code = `# ${marker}\ndef f():\n    return `;
    const before = harness.logLines().length;
    expect((await postJson(`${harness.baseUrl}/v2/completions`, bodyWithCode(code), owner.headers)).status).toBe(200);
    const ownerLines = harness.logLines().slice(before);
    expect(ownerLines.join('\n')).not.toContain(marker);
    const access = JSON.parse(ownerLines.find((line) => line.includes('rest access')) ?? '{}') as Record<
      string,
      unknown
    >;
    expect(access).toMatchObject({ status_code: 200, user_id: owner.id, lang: 'python', prompt_length: code.length });
    expect(access.content_above_cursor_chars).toEqual(expect.any(Number));

    const middle = harness.logLines().length;
    expect((await postJson(`${harness.baseUrl}/v2/completions`, bodyWithCode(code), developer.headers)).status).toBe(
      200,
    );
    const expanded = harness.logLines().slice(middle).join('\n');
    expect(expanded).toContain(marker);
    expect(expanded).toContain(`${marker}_ANSWER`);
  });

  it('redact planted secrets, even in expanded logs, and the model never sees them', async () => {
    const code = `API_TOKEN = "${plantedSecrets.token}"\nowner = "${plantedSecrets.email}"\naws_key = ${plantedSecrets.aws}\nx = `;
    const before = harness.logLines().length;
    const calls = fake.calls.length;
    expect((await postJson(`${harness.baseUrl}/v2/completions`, bodyWithCode(code), developer.headers)).status).toBe(
      200,
    );
    const lines = harness.logLines().slice(before).join('\n');
    const prompt = JSON.stringify(fake.calls.slice(calls));
    for (const secret of Object.values(plantedSecrets)) {
      expect(lines).not.toContain(secret);
      expect(prompt).not.toContain(secret);
    }
    expect(prompt).toContain('<secret placeholder|secret>');
    expect(prompt).toContain('<email placeholder|email@example.com>');
    expect(lines).toContain('"redactions"');
  });
});

describe('redactSecrets', () => {
  it('uses GitLab AI-assist’s placeholders', () => {
    const text = [
      'mail me at ops@example.org',
      'server 10.20.30.40 and fe80::1ff:fe23:4567:890a',
      'clone https://deploy:hunter2hunter2@gitlab.example.com/group/project.git',
      'OPENAI_API_KEY=sk-proj-abcdefghijklmnopqrstuvwxyz',
      "password = 'correct horse battery staple'",
      'std::vector<int> values; version 1.2.3',
    ].join('\n');
    const result = redactSecretsDetailed(text);
    expect(result.text).toBe(
      [
        'mail me at <email placeholder|email@example.com>',
        'server <ipv4 placeholder|x.x.x.x> and <ipv6 placeholder|x:x:x:x:x:x:x:x>',
        'clone https://deploy:<secret placeholder|secret>@gitlab.example.com/group/project.git',
        'OPENAI_API_KEY=<secret placeholder|secret>',
        "password = '<secret placeholder|secret>'",
        'std::vector<int> values; version 1.2.3',
      ].join('\n'),
    );
    expect(result.counts).toMatchObject({ email: 1, ipv4: 1, ipv6: 1, basic_auth: 1, token: 1, keyword_secret: 1 });
  });

  it('aiPayloadFields logs sizes only, or redacted text when expanded', () => {
    expect(aiPayloadFields({ prompt: `key ${plantedSecrets.token}` }, { expanded: false })).toEqual({
      prompt_chars: 42,
    });
    expect(aiPayloadFields({ prompt: `key ${plantedSecrets.token}` }, { expanded: true })).toEqual({
      prompt_chars: 42,
      prompt: 'key <secret placeholder|secret>',
    });
    expect(redactSecrets('nothing to see')).toBe('nothing to see');
  });
});

describe('moderation', () => {
  it('blocks a flagged input on /v2/completions with a clear error and no model call', async () => {
    const calls = fake.calls.length;
    const response = await postJson(
      `${harness.baseUrl}/v2/completions`,
      bodyWithCode('# cast the forbidden incantation\n'),
      owner.headers,
    );
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ detail: 'Provided input violates the Content Policy' });
    expect(fake.calls.length).toBe(calls);
  });

  describe('provider mode (OpenAI-compatible /moderations stand-in)', () => {
    let moderationServer: Server;
    let baseURL: string;
    const received: unknown[] = [];

    beforeAll(async () => {
      moderationServer = createServer((request, response) => {
        let raw = '';
        request.on('data', (chunk: Buffer) => {
          raw += chunk.toString('utf8');
        });
        request.on('end', () => {
          const body = JSON.parse(raw) as { input: string[] };
          received.push(body);
          if (request.headers.authorization !== 'Bearer moderation-key') {
            response.writeHead(401).end();
            return;
          }
          const results = body.input.map((text) => ({
            flagged: text.includes('violent'),
            categories: { violence: text.includes('violent'), harassment: false },
          }));
          response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ results }));
        });
      });
      await new Promise<void>((resolve) => moderationServer.listen(0, '127.0.0.1', resolve));
      const address = moderationServer.address();
      baseURL = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/v1`;
    });

    afterAll(async () => {
      moderationServer?.closeAllConnections();
      await new Promise<void>((resolve) => moderationServer.close(() => resolve()));
    });

    it('flags with GitLab’s message, passes clean input redacted, and fails closed when the provider fails', async () => {
      const moderator = createInputModerator({
        defaultPolicy: { mode: 'off' },
        policies: {
          chat: {
            mode: 'provider',
            classifier: createOpenAIModerationClassifier({ baseURL, apiKey: 'moderation-key' }),
            redactSecrets: true,
          },
          broken: {
            mode: 'provider',
            classifier: createOpenAIModerationClassifier({ baseURL, apiKey: 'wrong' }),
            redactSecrets: false,
          },
        },
      });
      const flagged = moderator.moderate('chat', { content: 'a violent request' });
      await expect(flagged).rejects.toSatisfy(
        (error: unknown) =>
          InputModerationError.isInstance(error) &&
          error.failure === 'flagged' &&
          error.message === "Provided input violates OpenAI's Content Policy" &&
          error.categories.includes('violence'),
      );
      const clean = await moderator.moderate('chat', { content: `mail ${plantedSecrets.email}` });
      expect(clean.texts.content).toBe('mail <email placeholder|email@example.com>');
      expect(JSON.stringify(received.at(-1))).not.toContain(plantedSecrets.email);
      await expect(moderator.moderate('broken', { content: 'x' })).rejects.toSatisfy(
        (error: unknown) => InputModerationError.isInstance(error) && error.failure === 'unavailable',
      );
      expect(await moderator.moderate('other', { content: 'a violent request' })).toEqual({
        texts: { content: 'a violent request' },
        redactions: {},
      });
    });
  });
});
