import { OAuth2Client } from 'google-auth-library';
import { z } from 'zod';
import { createAnthropicProvider } from '../llm/providers/anthropic/anthropic-provider.ts';
import { createFakeProvider } from '../llm/providers/fake/fake-provider.ts';
import { createVertexProvider } from '../llm/providers/vertex/vertex-provider.ts';
import type { LlmRequest } from '../llm/types.ts';
import { createJudge, type Judge } from './judge.ts';

export const judgeNames = ['anthropic', 'vertex', 'fake'] as const;
export type JudgeName = (typeof judgeNames)[number];

/**
 * Judges are configured apart from the answering model (`EVAL_*` first, then the service's own variables), so
 * the answers can come from the fake model while real judges grade them, and tests point the judges at
 * stand-ins. `EVAL_VERTEX_ACCESS_TOKEN` is a ready OAuth token (`gcloud auth print-access-token`, or any value
 * for a stand-in) used instead of service-account credentials.
 */
const judgeEnvironmentSchema = z.object({
  EVAL_ANTHROPIC_API_KEY: z.string().min(1).optional(),
  EVAL_ANTHROPIC_BASE_URL: z.url().optional(),
  EVAL_ANTHROPIC_MODEL: z.string().min(1).optional(),
  ANTHROPIC_API_KEY: z.string().min(1).optional(),
  ANTHROPIC_BASE_URL: z.url().optional(),
  ANTHROPIC_MODEL: z.string().min(1).optional(),
  EVAL_VERTEX_AI_PROJECT: z.string().min(1).optional(),
  EVAL_VERTEX_AI_LOCATION: z.string().min(1).optional(),
  EVAL_VERTEX_AI_API_ENDPOINT: z.string().min(1).optional(),
  EVAL_VERTEX_AI_MODEL: z.string().min(1).optional(),
  EVAL_VERTEX_ACCESS_TOKEN: z.string().min(1).optional(),
  VERTEX_AI_PROJECT: z.string().min(1).optional(),
  VERTEX_AI_LOCATION: z.string().min(1).optional(),
  VERTEX_AI_API_ENDPOINT: z.string().min(1).optional(),
  VERTEX_AI_CREDENTIALS: z.string().min(1).optional(),
  VERTEX_AI_MODEL: z.string().min(1).optional(),
});

export class JudgeConfigurationError extends Error {
  override name = 'JudgeConfigurationError';
}

/** Stop words left out when the fake judge compares words. */
const stopWords = new Set(
  'about after also been before being both does each from have into just like more most must never only other over same some such than that their them then there these they this those through under until very were what when where which while will with would your'.split(
    ' ',
  ),
);

function keyWords(text: string): Set<string> {
  return new Set((text.toLowerCase().match(/[a-z0-9_.:@#!&-]{4,}/g) ?? []).filter((word) => !stopWords.has(word)));
}

/**
 * The `fake` judge, for runs without keys: it grades CORRECT when the answer contains at least half of the
 * reference answer's key words. It measures overlap, not truth; it exists to try the pipeline offline.
 */
export function fakeJudgeReply(request: LlmRequest): string {
  const prompt = request.messages.at(-1)?.content ?? '';
  const reference = /Reference answer[^\n]*\n([\s\S]*?)(?:\n\n|\n<\/context>)/.exec(prompt)?.[1] ?? '';
  const answer = /<student_answer>\n([\s\S]*?)\n<\/student_answer>/.exec(prompt)?.[1] ?? '';
  const expected = keyWords(reference);
  const found = keyWords(answer);
  const shared = [...expected].filter((word) => found.has(word)).length;
  const share = expected.size === 0 ? 0 : shared / expected.size;
  return `Grade: ${share >= 0.5 ? 'CORRECT' : 'INCORRECT'}\nExplanation: the answer contains ${shared} of the ${expected.size} key words of the reference answer (${Math.round(share * 100)} %); the fake judge compares words, not facts.`;
}

/** Builds the named judges from the environment; a judge without its key or project is a configuration error. */
export function createJudges(names: readonly string[], environment: NodeJS.ProcessEnv = process.env): Judge[] {
  const env = judgeEnvironmentSchema.parse(environment);
  return names.map((name) => {
    switch (name) {
      case 'anthropic': {
        const apiKey = env.EVAL_ANTHROPIC_API_KEY ?? env.ANTHROPIC_API_KEY;
        if (!apiKey)
          throw new JudgeConfigurationError('The anthropic judge needs EVAL_ANTHROPIC_API_KEY or ANTHROPIC_API_KEY');
        const baseURL = env.EVAL_ANTHROPIC_BASE_URL ?? env.ANTHROPIC_BASE_URL;
        const model = env.EVAL_ANTHROPIC_MODEL ?? env.ANTHROPIC_MODEL ?? 'claude-sonnet-4-5';
        const provider = createAnthropicProvider({
          apiKey,
          ...(baseURL ? { baseURL } : {}),
          defaultModel: model,
          timeoutMs: 50_000,
          id: 'anthropic-judge',
        });
        return createJudge({ name, model, provider });
      }
      case 'vertex': {
        const project = env.EVAL_VERTEX_AI_PROJECT ?? env.VERTEX_AI_PROJECT;
        if (!project)
          throw new JudgeConfigurationError('The vertex judge needs EVAL_VERTEX_AI_PROJECT or VERTEX_AI_PROJECT');
        const model = env.EVAL_VERTEX_AI_MODEL ?? env.VERTEX_AI_MODEL ?? 'gemini-2.5-flash';
        const apiEndpoint = env.EVAL_VERTEX_AI_API_ENDPOINT ?? env.VERTEX_AI_API_ENDPOINT;
        let authClient: OAuth2Client | undefined;
        if (env.EVAL_VERTEX_ACCESS_TOKEN) {
          authClient = new OAuth2Client();
          // Valid for an hour from now, like a token printed by gcloud.
          authClient.setCredentials({
            access_token: env.EVAL_VERTEX_ACCESS_TOKEN,
            expiry_date: Date.now() + 3_600_000,
          });
        }
        const provider = createVertexProvider({
          project,
          location: env.EVAL_VERTEX_AI_LOCATION ?? env.VERTEX_AI_LOCATION ?? 'us-central1',
          ...(apiEndpoint ? { apiEndpoint } : {}),
          ...(authClient ? { authClient } : {}),
          ...(!authClient && env.VERTEX_AI_CREDENTIALS
            ? { credentials: JSON.parse(env.VERTEX_AI_CREDENTIALS) as Record<string, string> }
            : {}),
          defaultModel: model,
          embeddingModel: 'text-embedding-005',
          id: 'vertex-judge',
        });
        return createJudge({ name, model, provider });
      }
      case 'fake':
        return createJudge({ name, model: 'word-overlap', provider: createFakeProvider({ respond: fakeJudgeReply }) });
      default:
        throw new JudgeConfigurationError(`Unknown judge ${name}; use ${judgeNames.join(', ')}`);
    }
  });
}
