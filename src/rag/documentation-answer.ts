import type { LlmRequest } from '../llm/types.ts';
import type { DocumentationSearchResult } from './search-documentation.ts';

/** GitLab's fixed answer when no documentation matches (`TanukiBot` empty response). */
export const emptyDocumentationAnswer = "I'm sorry, I was not able to find any documentation to answer your question.";

/** GitLab's fixed answer when documentation search is not set up on this instance. */
export const unsupportedDocumentationAnswer =
  'It seems your question relates to GitLab documentation. Unfortunately, this feature is not yet available in this GitLab instance. Your feedback is welcome.';

/**
 * Minimum cosine similarity between the question and a chunk for the chunk to be quoted, for the offline
 * Universal Sentence Encoder. Measured on the 150-page corpus (bench/results/rag.md): the best chunk for each
 * of the 50 real questions scores 0.37–0.85 (p10 0.50), while off-topic questions ("What is the capital of
 * France?", "Write a poem about my cat") score 0.17–0.34 against their best chunk. 0.35 sits in the gap, closer
 * to the off-topic side because a wrong "I could not find anything" costs more than quoting a weak chunk the
 * model is told to ignore. Other models need their own value (gecko similarities run higher): pass
 * `minSimilarity`.
 */
export const defaultMinSimilarity = 0.35;

/**
 * GitLab's 2023 template sent `max_tokens: 256`; answers that quote several steps were cut before the
 * `ATTRS:` line, losing the citations, so this allows four times as much.
 */
const answerMaxTokens = 1_024;

/** GitLab's `CONTENT_ID_REGEX`, global so every cited id is found. */
const citationPattern = /CNT-IDX-(\d+)/g;
/** The model is told to end with this marker; the visible answer is what comes before it. */
const attributionMarker = /\n?\s*ATTRS:/;
/** GitLab's response modifier drops the sources when the model says it does not know. */
const doesNotKnowPattern = /\bI (?:do not|don't) know\b/i;

/** One entry of `extras.sources`, as GitLab's TanukiBot response modifier returns it. */
export interface DocumentationSource {
  /** The help page URL of the cited chunk. */
  source_url: string;
  /** The page title. */
  title: string;
  /** The page path, `/doc/user/profile/user_passwords.md`. */
  source: string;
}

/** What the chat does with a documentation question: answer with the fixed text, or send the prompt. */
export type DocumentationAnswerPlan =
  | {
      kind: 'empty';
      /** {@link emptyDocumentationAnswer}. */
      answer: string;
    }
  | {
      kind: 'prompt';
      request: LlmRequest;
      /** The chunks quoted in the prompt; pass them to {@link parseDocumentationAnswer}. */
      chunks: DocumentationSearchResult[];
    };

export interface PlanDocumentationAnswerOptions {
  /** The user's question, as typed. */
  question: string;
  /** Search results, best first (normally 4 from `searchDocumentation`). */
  results: DocumentationSearchResult[];
  /** Chunks with a lower cosine similarity are not quoted; default {@link defaultMinSimilarity}. */
  minSimilarity?: number;
  /** Model id for the request; the provider's default when absent. */
  model?: string;
}

/**
 * Chunks relevant enough to quote: a known similarity at or above the threshold. Chunks without a similarity
 * (full-text-only search) are kept only when they matched the question's words.
 */
export function selectRelevantChunks(
  results: DocumentationSearchResult[],
  minSimilarity: number = defaultMinSimilarity,
): DocumentationSearchResult[] {
  return results.filter((result) =>
    result.similarity === undefined ? result.textRank !== undefined : result.similarity >= minSimilarity,
  );
}

function quote(chunk: DocumentationSearchResult): string {
  return `<quote>\nCONTENT: ${chunk.content}\nATTRS: CNT-IDX-${chunk.id}\n</quote>`;
}

/** The TanukiBot-style request: the quoted chunks, the question, and the rule to cite with `ATTRS`. */
export function buildDocumentationAnswerRequest(
  question: string,
  chunks: DocumentationSearchResult[],
  model?: string,
): LlmRequest {
  const system = [
    'You are GitLab Duo, answering questions about GitLab from its documentation.',
    'You are given extracts of the documentation, each in a <quote> block with CONTENT and an ATTRS id.',
    'Answer only from these extracts. If they do not contain the answer, say that you do not know;',
    'never make up an answer, a UI path or a setting.',
    'ALWAYS finish your answer with a final line "ATTRS:" followed by the CNT-IDX ids of the extracts you used.',
  ].join(' ');
  const content = `${chunks.map(quote).join('\n\n')}\n\nQuestion: ${question.trim()}`;
  return {
    ...(model ? { model } : {}),
    system,
    messages: [{ role: 'user', content }],
    maxTokens: answerMaxTokens,
    // Factual answers from quoted text: no sampling variety wanted.
    temperature: 0,
  };
}

/** Decides between GitLab's fixed "not able to find any documentation" answer and a prompt over relevant chunks. */
export function planDocumentationAnswer(options: PlanDocumentationAnswerOptions): DocumentationAnswerPlan {
  const chunks = options.question.trim() === '' ? [] : selectRelevantChunks(options.results, options.minSimilarity);
  if (chunks.length === 0) return { kind: 'empty', answer: emptyDocumentationAnswer };
  return { kind: 'prompt', request: buildDocumentationAnswerRequest(options.question, chunks, options.model), chunks };
}

/** The model's answer without its `ATTRS:` tail, and the cited chunks as `extras.sources` (one per page). */
export function parseDocumentationAnswer(
  completion: string,
  chunks: DocumentationSearchResult[],
): { content: string; sources: DocumentationSource[] } {
  const markerAt = completion.search(attributionMarker);
  const content = (markerAt >= 0 ? completion.slice(0, markerAt) : completion).trim();
  if (doesNotKnowPattern.test(content)) return { content, sources: [] };
  const byId = new Map(chunks.map((chunk) => [String(chunk.id), chunk]));
  const sources: DocumentationSource[] = [];
  const seen = new Set<string>();
  for (const match of completion.matchAll(citationPattern)) {
    const chunk = byId.get(match[1] ?? '');
    if (!chunk || seen.has(chunk.url)) continue;
    seen.add(chunk.url);
    sources.push({ source_url: chunk.url, title: chunk.title, source: chunk.sourcePath });
  }
  return { content, sources };
}
