import type { LlmRequest } from '../../types.ts';

/** Which tool the fake model picks for a question, first match wins; the looked-at object counts as named. */
const toolByKeyword: [RegExp, string][] = [
  [/\.gitlab-ci|\bci\/cd (?:config|yaml)|\byaml\b|\bwrite a (?:ci|pipeline)/i, 'CiEditorAssistant'],
  [/\bmerge requests?\b|\bMRs?\b|(?:^|\s)!\d+/i, 'MergeRequestReader'],
  [/\bepics?\b|(?:^|\s)&\d+/i, 'EpicReader'],
  [/\bissues?\b|(?:^|\s)#\d+/i, 'IssueReader'],
  [/\b(?:job|build|log)s?\b/i, 'BuildReader'],
];
const toolByLookedAtObject: [RegExp, string][] = [
  [/looking at this GitLab object: Issue /, 'IssueReader'],
  [/looking at this GitLab object: Epic /, 'EpicReader'],
  [/looking at this GitLab object: Merge request /, 'MergeRequestReader'],
  [/looking at this GitLab object: CI job /, 'BuildReader'],
];
const productQuestion =
  /^\s*(?:how|what|where|why|can|could|does|do|is|are|which|when|should)\b|\bdocumentation\b|\bdocs\b/i;

function oneLine(text: string, length: number): string {
  const flat = text
    .replace(/<\/?[a-z_]+[^>]*>/gi, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return flat.length > length ? `${flat.slice(0, length - 3)}...` : flat;
}

/**
 * The fake model playing Duo Chat's ReAct agent, so the offline service and the tests exercise tools:
 * on the first step it picks a tool by keyword (the object the user looks at, then words like "issue"
 * or "#12", then product questions go to the documentation), or answers directly; once it has an
 * observation it writes a final answer that quotes it. Undefined when the request is not an agent step.
 */
export function fakeAgentAnswer(request: LlmRequest): string | undefined {
  const system = request.system ?? '';
  if (!system.includes('Action Input:') || !system.includes('Begin!')) return undefined;
  const prompt = request.messages.at(-1)?.content ?? '';
  const question = /Question: ([\s\S]*?)(?:\nThought:|$)/.exec(prompt)?.[1]?.trim() ?? '';
  const available = (name: string) => system.includes(`. ${name}: `);
  const lastAction = [...prompt.matchAll(/\nAction: (\w+)/g)].at(-1)?.[1];
  const observation = [...prompt.matchAll(/Observation: <observation>\n([\s\S]*?)\n<\/observation>/g)].at(-1)?.[1];
  if (observation !== undefined) {
    return `I know the final answer.\nFinal Answer: **Fake model answer.** You asked about: "${oneLine(question, 120)}". From ${lastAction}: "${oneLine(observation, 160)}". This reply is canned (USE_FAKE_MODELS).`;
  }
  const refersToLookedAt = /\b(?:this|that|it|current)\b/i.test(question);
  const tool =
    (refersToLookedAt ? toolByLookedAtObject.find(([pattern]) => pattern.test(system))?.[1] : undefined) ??
    toolByKeyword.find(([pattern]) => pattern.test(question))?.[1] ??
    (productQuestion.test(question) ? 'GitlabDocumentation' : undefined);
  if (tool && available(tool)) {
    return `I should use the ${tool} tool.\nAction: ${tool}\nAction Input: ${question}`;
  }
  return `I know the final answer.\nFinal Answer: **Fake model answer.** You asked about: "${oneLine(question, 120)}". This reply is canned (USE_FAKE_MODELS).`;
}
