import { quoteData } from '../actions/describe-resource.ts';
import { LlmError } from '../llm/errors.ts';
import type { LlmProvider } from '../llm/types.ts';
import type { EvalCase } from './dataset.ts';
import type { JudgeVerdict } from './eval-result.ts';

/** An LLM that grades answers, named by its provider (`anthropic`, `vertex`, `fake`). */
export interface Judge {
  name: string;
  model: string;
  grade(evalCase: EvalCase, answer: string): Promise<JudgeVerdict>;
}

/**
 * What the judge is told the answer must agree with: the reference answer, and for code tasks the code the
 * question is about (GitLab gave its judges the resource as JSON; our cases carry their facts).
 */
export function gradingContext(evalCase: EvalCase): string {
  const parts = [`Reference answer (the facts a correct answer must agree with):\n${evalCase.referenceAnswer}`];
  if (evalCase.currentFile) {
    parts.push(
      `The question is about this code from ${evalCase.currentFile.fileName}:\n${evalCase.currentFile.selectedText}`,
    );
  }
  return parts.join('\n\n');
}

/**
 * GitLab's QA grading prompt (`DuoChatQaEvaluationHelpers`, reference §10.3): a teacher grading a quiz, on
 * factual accuracy only; more information is fine unless it conflicts; "I cannot access it" is INCORRECT.
 * Quoted blocks are defused so an answer cannot close its own block and pose as instructions.
 */
export function gradingPrompt(evalCase: EvalCase, answer: string): string {
  return [
    'You are a teacher grading a quiz.',
    "You are given a question, the context the question is about, and a student's answer. You are asked to grade the student's answer as either CORRECT or INCORRECT, based on the context.",
    '',
    `<question>\n${quoteData(evalCase.question, 'question')}\n</question>`,
    '',
    `<context>\n${quoteData(gradingContext(evalCase), 'context')}\n</context>`,
    '',
    `<student_answer>\n${quoteData(answer, 'student_answer')}\n</student_answer>`,
    '',
    "Grade the student's answer based ONLY on its factual accuracy with respect to the context.",
    'Ignore differences in punctuation, phrasing and length between the student answer and the context.',
    'It is OK if the student answer contains more information than the context, as long as it does not contain any conflicting statements.',
    'If the student answers that there is no such information, or that they cannot access the resource or the context, grade it as INCORRECT.',
    '',
    'Reply in exactly this format:',
    'Grade: CORRECT or INCORRECT',
    'Explanation: your step-by-step reasoning',
  ].join('\n');
}

// "Grade: CORRECT", "**Grade:** INCORRECT"; not the format line "Grade: CORRECT or INCORRECT" echoed back.
const gradePattern = /\bGrade\W{0,4}(CORRECT|INCORRECT)\b(?!\s+or\b)/gi;

/** The grade in a judge's reply (GitLab's `/Grade: CORRECT/i` and `/Grade: INCORRECT/i`), or null: skipped. */
export function parseGrade(reply: string): 'CORRECT' | 'INCORRECT' | null {
  const grades = new Set([...reply.matchAll(gradePattern)].map((match) => match[1]?.toUpperCase()));
  if (grades.size !== 1) return null; // none, or both: no usable grade.
  return grades.has('CORRECT') ? 'CORRECT' : 'INCORRECT';
}

function explanationOf(reply: string): string {
  const explanation = /Explanation\W{0,4}([\s\S]*)/i.exec(reply)?.[1] ?? reply;
  const flat = explanation.trim().replace(/\s+/g, ' ');
  return flat.length > 1_000 ? `${flat.slice(0, 997)}...` : flat;
}

/** GitLab's judge call: temperature 0.1, 50 s; transient failures are retried once, then the case is skipped. */
export function createJudge(options: {
  name: string;
  model: string;
  provider: LlmProvider;
  timeoutMs?: number;
  retryDelayMs?: number;
}): Judge {
  const timeoutMs = options.timeoutMs ?? 50_000;
  return {
    name: options.name,
    model: options.model,
    async grade(evalCase, answer) {
      const startedAt = performance.now();
      const request = {
        messages: [{ role: 'user' as const, content: gradingPrompt(evalCase, answer) }],
        temperature: 0.1,
        maxTokens: 1_024,
      };
      let lastError: unknown;
      for (let attempt = 1; attempt <= 2; attempt++) {
        try {
          const result = await options.provider.complete(request, { signal: AbortSignal.timeout(timeoutMs) });
          const grade = parseGrade(result.text);
          return {
            grade,
            explanation: explanationOf(result.text),
            ...(grade === null ? { error: 'unparseable' } : {}),
            latencyMs: Math.round(performance.now() - startedAt),
          };
        } catch (error) {
          lastError = error;
          if (!(LlmError.isInstance(error) && error.isRetryable) || attempt === 2) break;
          await new Promise((resolve) => setTimeout(resolve, options.retryDelayMs ?? 1_000));
        }
      }
      return {
        grade: null,
        explanation: '',
        error: lastError instanceof Error ? lastError.message : String(lastError),
        latencyMs: Math.round(performance.now() - startedAt),
      };
    },
  };
}
