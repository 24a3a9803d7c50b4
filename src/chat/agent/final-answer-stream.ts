import { agentStopWords, cutAtStopWords } from './parse-agent-output.ts';

const finalAnswerMarker = /(\*\*)?Final\s+Answer(\*\*)?\s*:(\*\*)?[ \t]*/i;
const actionMarker = /(?:^|\n)[ \t]*(?:\*\*)?Action(?:\s*\d+)?(?:\*\*)?\s*:/gi;
const directAnswerLine = /^(?:\*\*)?[ \t]*[`[]?DirectAnswer\b/i;

/**
 * Where the first real tool call starts (-1: none yet, or not decidable yet). `Action: DirectAnswer` is not
 * a tool call: its answer follows; an action line still arriving is undecided.
 */
function toolActionAt(buffer: string): number | 'undecided' {
  for (const match of buffer.matchAll(actionMarker)) {
    const rest = buffer.slice(match.index + match[0].length);
    const line = rest.replace(/^[ \t]*/, '');
    if (directAnswerLine.test(line)) continue;
    if (!rest.includes('\n') && 'DirectAnswer'.toLowerCase().startsWith(line.replace(/^[*`[]+/, '').toLowerCase())) {
      return 'undecided';
    }
    return match.index;
  }
  return -1;
}

/** Length of the longest end of `text` that is the start of a stop word: it may still become one. */
function partialStopWordLength(text: string): number {
  let longest = 0;
  for (const word of agentStopWords) {
    for (let length = Math.min(word.length - 1, text.length); length > longest; length--) {
      if (text.endsWith(word.slice(0, length))) {
        longest = length;
        break;
      }
    }
  }
  return longest;
}

/**
 * Decides, delta by delta, which part of an agent step the user may see (GitLab's `StreamedAnswer`,
 * reference §5.3): nothing until `Final Answer:`, then everything after it, left-stripped once, up to a
 * stop word. A step that names an action first is never shown. A model that ignores the format and
 * writes neither marker is shown at the end, in the pieces it arrived in ({@link lateChunks}).
 */
export function createFinalAnswerStream() {
  let buffer = '';
  let state: 'searching' | 'streaming' | 'acting' = 'searching';
  let answerStart = -1;
  let boldMarker = false;
  let emitted = 0;
  const deltas: string[] = [];

  /** The answer text that is safe to show; `final` also releases a possible stop-word start. */
  function nextPiece(final: boolean): string | undefined {
    if (state !== 'streaming') return undefined;
    let answer = buffer.slice(answerStart);
    if (emitted === 0) {
      // `**Final Answer:**` may arrive as `**Final Answer:` then `**`: wait for what follows the marker.
      if (boldMarker && /^\s*\*{0,2}\s*$/.test(answer) && !final) return undefined;
      const lead = (boldMarker ? /^\s*(?:\*\*)?\s*/ : /^\s*/).exec(answer)?.[0] ?? '';
      answerStart += lead.length;
      answer = answer.slice(lead.length);
    }
    const visible = cutAtStopWords(answer);
    const end =
      final || visible.length < answer.length ? visible.length : visible.length - partialStopWordLength(visible);
    if (end <= emitted) return undefined;
    const piece = visible.slice(emitted, end);
    emitted = end;
    return piece;
  }

  return {
    /** Adds a delta; returns the text to stream now, if any. */
    push(delta: string): string | undefined {
      deltas.push(delta);
      buffer += delta;
      if (state === 'searching') {
        const finalMatch = finalAnswerMarker.exec(buffer);
        const actionAt = toolActionAt(buffer);
        if (actionAt === 'undecided') return undefined;
        if (actionAt >= 0 && (!finalMatch || actionAt < finalMatch.index)) state = 'acting';
        else if (finalMatch) {
          state = 'streaming';
          answerStart = finalMatch.index + finalMatch[0].length;
          boldMarker = finalMatch[1] !== undefined && finalMatch[2] === undefined && finalMatch[3] === undefined;
        }
      }
      return nextPiece(false);
    },
    /** At the end of the step: whatever was held back (a partial stop word that never completed). */
    finish(): string | undefined {
      return nextPiece(true);
    },
    /** Whether any of the answer was streamed. */
    get streamedAny(): boolean {
      return emitted > 0;
    },
    /**
     * For a step that was a final answer without the marker: the answer in the pieces it arrived in,
     * so it is streamed late rather than not at all.
     */
    lateChunks(finalAnswer: string): string[] {
      if (emitted > 0 || finalAnswer === '') return [];
      const raw = deltas.join('');
      const at = raw.lastIndexOf(finalAnswer);
      if (at < 0) return [finalAnswer];
      const pieces: string[] = [];
      let position = 0;
      for (const delta of deltas) {
        const start = Math.max(position, at);
        const end = Math.min(position + delta.length, at + finalAnswer.length);
        if (end > start) pieces.push(raw.slice(start, end));
        position += delta.length;
      }
      return pieces;
    },
  };
}
