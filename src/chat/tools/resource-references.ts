/** The kinds of GitLab object a chat question can point at. */
export type ReferenceKind = 'issue' | 'merge_request' | 'epic' | 'job';

/** A reference found in text: a number, and the project or group path when the text names one. */
export interface ResourceReference {
  path?: string;
  number: number;
}

const segment = '[A-Za-z0-9_.-]+';
/** A group path: one or more segments. */
const pathPattern = `${segment}(?:/${segment})*`;
/** A project path: a namespace and a name, at least two segments. */
const projectPathPattern = `${segment}(?:/${segment})+`;

/** URL shapes first (most specific), then `path<sigil>N`, then a bare `<sigil>N` or "issue 12". */
const patterns: Record<ReferenceKind, RegExp[]> = {
  issue: [
    new RegExp(`https?://[^/\\s]+/(${projectPathPattern})/-/issues/(\\d+)`),
    new RegExp(`(?:^|\\s)(${projectPathPattern})#(\\d+)\\b`),
    /(?:^|[\s(])#(\d+)\b/,
    /\bissue\s+(?:number\s+)?#?(\d+)\b/i,
  ],
  merge_request: [
    new RegExp(`https?://[^/\\s]+/(${projectPathPattern})/-/merge_requests/(\\d+)`),
    new RegExp(`(?:^|\\s)(${projectPathPattern})!(\\d+)\\b`),
    /(?:^|[\s(])!(\d+)\b/,
    /\b(?:merge request|MR)\s+(?:number\s+)?!?(\d+)\b/i,
  ],
  epic: [
    new RegExp(`https?://[^/\\s]+/groups/(${pathPattern})/-/epics/(\\d+)`),
    new RegExp(`(?:^|\\s)(${pathPattern})&(\\d+)\\b`),
    /(?:^|[\s(])&(\d+)\b/,
    /\bepic\s+(?:number\s+)?&?(\d+)\b/i,
  ],
  job: [
    new RegExp(`https?://[^/\\s]+/(${projectPathPattern})/-/jobs/(\\d+)`),
    /\b(?:job|build)\s+(?:number\s+)?#?(\d+)\b/i,
  ],
};

/**
 * Finds a reference to a GitLab object in the agent's action input or the user's question, without a
 * model call (GitLab asks the model to identify it; parsing is cheaper and cannot be talked into
 * anything). Returns undefined when the text names none, meaning "the current one".
 */
export function findReference(text: string, kind: ReferenceKind): ResourceReference | undefined {
  for (const pattern of patterns[kind]) {
    const match = pattern.exec(text);
    if (!match) continue;
    const [, first, second] = match;
    if (second !== undefined && first !== undefined) return { path: first, number: Number(second) };
    if (first !== undefined) return { number: Number(first) };
  }
  return undefined;
}
