import { describe, expect, it } from 'vitest';
import { createFinalAnswerStream } from '../../src/chat/agent/final-answer-stream.ts';
import { parseAgentOutput } from '../../src/chat/agent/parse-agent-output.ts';

describe('parsing what models write as a ReAct step', () => {
  it.each([
    ['the textbook format', 'I need the issue.\nAction: IssueReader\nAction Input: #12', 'IssueReader', '#12'],
    ['a Thought: prefix', 'Thought: I need the issue.\nAction: IssueReader\nAction Input: #12', 'IssueReader', '#12'],
    ['bold markers', '**Thought:** read it\n**Action:** IssueReader\n**Action Input:** #12', 'IssueReader', '#12'],
    ['the name in backticks', 'x\nAction: `EpicReader`\nAction Input: &3', 'EpicReader', '&3'],
    ['the name in brackets', 'x\nAction: [BuildReader]\nAction Input: job 4', 'BuildReader', 'job 4'],
    ['"tool" after the name', 'x\nAction: IssueReader tool\nAction Input: #1', 'IssueReader', '#1'],
    ['a numbered action', 'x\nAction 1: IssueReader\nAction Input 1: #1', 'IssueReader', '#1'],
    ['a quoted input', 'x\nAction: IssueReader\nAction Input: "what is #5 about?"', 'IssueReader', 'what is #5 about?'],
    [
      'an imagined observation',
      'x\nAction: IssueReader\nAction Input: #1\nObservation: it is done\nFinal Answer: done',
      'IssueReader',
      '#1',
    ],
    ['no input at all', 'x\nAction: GitlabDocumentation', 'GitlabDocumentation', ''],
  ])('reads an action from %s', (_name, output, action, actionInput) => {
    expect(parseAgentOutput(output)).toMatchObject({ kind: 'action', action, actionInput });
  });

  it.each([
    ['the textbook format', 'I know the final answer.\nFinal Answer: Use rebase.', 'Use rebase.'],
    ['a bold marker', '**Final Answer:** Use rebase.', 'Use rebase.'],
    ['lower case', 'final answer: Use rebase.', 'Use rebase.'],
    ['DirectAnswer with a Final Answer', 'Easy.\nAction: DirectAnswer\nFinal Answer: Use rebase.', 'Use rebase.'],
    ['DirectAnswer with the answer as input', 'Easy.\nAction: DirectAnswer\nAction Input: Use rebase.', 'Use rebase.'],
    ['no markers at all (GitLab takes it whole)', 'Use rebase, then force-push.', 'Use rebase, then force-push.'],
    ['only a Thought: prefix', 'Thought: Use rebase.', 'Use rebase.'],
    [
      'a final answer then a stray action',
      'Final Answer: Use rebase.\nAction: IssueReader',
      'Use rebase.\nAction: IssueReader',
    ],
    ['text after a stop word', 'Final Answer: Use rebase.\n\nHuman: next question', 'Use rebase.'],
  ])('reads a final answer from %s', (_name, output, finalAnswer) => {
    expect(parseAgentOutput(output)).toMatchObject({ kind: 'final', finalAnswer });
  });
});

function streamed(deltas: string[]) {
  const stream = createFinalAnswerStream();
  const shown: string[] = [];
  for (const delta of deltas) {
    const piece = stream.push(delta);
    if (piece !== undefined) shown.push(piece);
  }
  const rest = stream.finish();
  if (rest !== undefined) shown.push(rest);
  return { shown, stream };
}

describe('streaming only the final answer', () => {
  it('shows nothing before "Final Answer:", then the answer as it arrives, left-stripped once', () => {
    const { shown } = streamed(['I know', ' the final answer.\nFinal ', 'Answer:', '  Use', ' rebase', ' now.']);
    expect(shown).toEqual(['Use', ' rebase', ' now.']);
  });

  it('waits for a bold marker to close before showing anything', () => {
    const { shown } = streamed(['**Final Answer:', '**', ' **Bold** answer']);
    expect(shown.join('')).toBe('**Bold** answer');
  });

  it('never shows a step that calls a tool, even when it imagines a final answer later', () => {
    const { shown } = streamed(['Thought: read it\nAction: Issue', 'Reader\nAction Input: #1\nFinal Answer: made up']);
    expect(shown).toEqual([]);
  });

  it('holds back a stop word that arrives in pieces and drops it', () => {
    const { shown } = streamed(['Final Answer: done.', '\nObser', 'vation: imagined']);
    expect(shown.join('')).toBe('done.\n');
  });

  it('releases a held-back partial stop word that never completed', () => {
    const { shown } = streamed(['Final Answer: see the Obs', 'idian docs']);
    expect(shown.join('')).toBe('see the Obsidian docs');
  });

  it('gives an unformatted answer late, in the pieces it arrived in', () => {
    const { shown, stream } = streamed(['Use ', 'rebase', '.']);
    expect(shown).toEqual([]);
    expect(stream.lateChunks(parseAgentOutput('Use rebase.').kind === 'final' ? 'Use rebase.' : '')).toEqual([
      'Use ',
      'rebase',
      '.',
    ]);
  });
});

describe('DirectAnswer', () => {
  it('streams the final answer that follows "Action: DirectAnswer"', () => {
    const { shown } = streamed(['Easy.\nAction: Dir', 'ectAnswer\nFinal Answer: Use', ' rebase.']);
    expect(shown.join('')).toBe('Use rebase.');
  });
});
