import { z } from 'zod';

/** A judge's verdict on one answer; `grade: null` means skipped (unparseable reply or judge failure). */
export const judgeVerdictSchema = z.object({
  grade: z.enum(['CORRECT', 'INCORRECT']).nullable(),
  explanation: z.string(),
  /** Why the judge gave no grade: its error, or "unparseable". */
  error: z.string().optional(),
  latencyMs: z.number(),
});
export type JudgeVerdict = z.infer<typeof judgeVerdictSchema>;

/** What the chat path produced for one case. */
export const chatAnswerSchema = z.object({
  answer: z.string(),
  /** The final message's status (`completed`, `error`, …), `refused` by authorization, or `failed` (the run threw). */
  status: z.string(),
  errors: z.array(z.string()),
  toolsUsed: z.array(z.string()),
  sources: z.array(z.record(z.string(), z.unknown())),
  /** `provider:model` that answered. */
  model: z.string().nullable(),
  /** Tokens over every model call of the case (agent steps and tools). */
  usage: z.object({ inputTokens: z.number(), outputTokens: z.number(), estimated: z.boolean() }).nullable(),
  latencyMs: z.number(),
});
export type ChatAnswer = z.infer<typeof chatAnswerSchema>;

export const caseResultSchema = chatAnswerSchema.extend({
  id: z.string(),
  template: z.string(),
  question: z.string(),
  resourceId: z.string().nullable(),
  referenceAnswer: z.string(),
  expectedTools: z.array(z.string()).nullable(),
  /** Verdicts by judge name. */
  grades: z.record(z.string(), judgeVerdictSchema),
});
export type CaseResult = z.infer<typeof caseResultSchema>;

export const judgeDescriptionSchema = z.object({ name: z.string(), model: z.string() });

/** `tmp/eval/<run>.json`; `summary` is derived from `cases` and kept for readers of the file. */
export const evalRunSchema = z.object({
  version: z.literal(1),
  run: z.string(),
  dataset: z.string(),
  startedAt: z.string(),
  finishedAt: z.string(),
  judges: z.array(judgeDescriptionSchema),
  cases: z.array(caseResultSchema),
  summary: z.unknown(),
});
export type EvalRun = z.infer<typeof evalRunSchema>;
