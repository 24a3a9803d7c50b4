import { describe, expect, it } from 'vitest';
import {
  emptyDocumentationAnswer,
  parseDocumentationAnswer,
  planDocumentationAnswer,
} from '../../src/rag/documentation-answer.ts';
import type { DocumentationSearchResult } from '../../src/rag/search-documentation.ts';

function result(
  id: number,
  similarity: number | undefined,
  page = 'user/profile/user_passwords',
): DocumentationSearchResult {
  return {
    id,
    content: `Chunk ${id}: select Forgot your password on the sign-in page.`,
    url: `https://docs.gitlab.com/${page}/`,
    title: 'User passwords',
    sourcePath: `/doc/${page}.md`,
    headingPath: ['Reset your password'],
    metadata: {},
    score: 0.03,
    similarity,
    vectorRank: similarity === undefined ? undefined : 1,
    textRank: 1,
  };
}

describe('planDocumentationAnswer', () => {
  it('answers with GitLab fixed text when nothing is relevant', () => {
    expect(planDocumentationAnswer({ question: 'Write a poem about cats', results: [result(1, 0.12)] })).toEqual({
      kind: 'empty',
      answer: "I'm sorry, I was not able to find any documentation to answer your question.",
    });
    expect(planDocumentationAnswer({ question: 'anything', results: [] })).toMatchObject({
      answer: emptyDocumentationAnswer,
    });
    expect(planDocumentationAnswer({ question: '  ', results: [result(1, 0.9)] }).kind).toBe('empty');
  });

  it('quotes the relevant chunks with CNT-IDX ids in a TanukiBot-style request', () => {
    const plan = planDocumentationAnswer({
      question: 'How do I reset my password?',
      results: [result(11, 0.62), result(12, 0.41), result(13, 0.1)],
    });
    if (plan.kind !== 'prompt') throw new Error('expected a prompt');
    expect(plan.chunks.map((chunk) => chunk.id)).toEqual([11, 12]);
    const content = plan.request.messages[0]?.content ?? '';
    expect(plan.request.messages).toHaveLength(1);
    expect(content).toContain('<quote>\nCONTENT: Chunk 11');
    expect(content).toContain('ATTRS: CNT-IDX-12\n</quote>');
    expect(content).not.toContain('CNT-IDX-13');
    expect(content.endsWith('Question: How do I reset my password?')).toBe(true);
    expect(plan.request.system).toMatch(/ALWAYS finish your answer with a final line "ATTRS:"/);
  });
});

describe('parseDocumentationAnswer', () => {
  const chunks = [result(11, 0.6), result(12, 0.5), result(13, 0.5, 'user/ssh')];

  it('strips the ATTRS tail and maps cited ids to sources, one per page', () => {
    const parsed = parseDocumentationAnswer(
      'Select **Forgot your password?** on the sign-in page.\n\nATTRS: CNT-IDX-11, CNT-IDX-12 CNT-IDX-13 CNT-IDX-99',
      chunks,
    );
    expect(parsed).toEqual({
      content: 'Select **Forgot your password?** on the sign-in page.',
      sources: [
        {
          source_url: 'https://docs.gitlab.com/user/profile/user_passwords/',
          title: 'User passwords',
          source: '/doc/user/profile/user_passwords.md',
        },
        { source_url: 'https://docs.gitlab.com/user/ssh/', title: 'User passwords', source: '/doc/user/ssh.md' },
      ],
    });
  });

  it('gives no sources when the model does not know', () => {
    expect(parseDocumentationAnswer("I don't know the answer to your question. ATTRS: CNT-IDX-11", chunks)).toEqual({
      content: "I don't know the answer to your question.",
      sources: [],
    });
  });
});
