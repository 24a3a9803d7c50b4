import { quoteData, resourceHeading } from '../../actions/describe-resource.ts';
import type { Resource } from '../../auth/resources.ts';
import type { LlmMessage, LlmRequest } from '../../llm/types.ts';
import type { ChatTool } from '../tools/chat-tool.ts';
import { agentStopWords } from './parse-agent-output.ts';

/** GitLab's `PROMPT_SIZE`: the whole prompt, history included, stays within 30,000 characters. */
export const agentPromptCharacters = 30_000;

/** The file the user has open in the IDE, as GitLab's `AiCurrentFileInput`. */
export interface CurrentFile {
  fileName: string;
  selectedText: string;
  contentAboveCursor?: string | undefined;
  contentBelowCursor?: string | undefined;
}

/** One step the agent took: what it thought, which tool it called, and what the tool returned. */
export interface ScratchpadStep {
  thought: string;
  action: string;
  actionInput: string;
  observation: string;
}

/** GitLab's `tools_definitions`: "N. Name: description" and an example, for each tool. */
export function toolDefinitions(tools: readonly ChatTool[]): string {
  return tools
    .map(
      (tool, index) =>
        `${index + 1}. ${tool.name}: ${tool.description}\nHere is an example of using this tool:\n${tool.example}`,
    )
    .join('\n\n');
}

function currentResourceText(resource: Resource | null): string {
  if (!resource || resource.type === 'User' || resource.type === 'Project' || resource.type === 'Group') return '';
  return `\nThe user is looking at this GitLab object: ${quoteData(resourceHeading(resource), 'resource')}. When the question says "this" or "that", it means this object.\n`;
}

function currentCodeText(file: CurrentFile | undefined): string {
  if (!file) return '';
  const name = quoteData(file.fileName, 'content');
  if (file.selectedText.trim() !== '') {
    return `\nThe user selected this code in the file ${name}:\n<selected_code>\n${quoteData(file.selectedText, 'selected_code')}\n</selected_code>\n`;
  }
  const content = `${file.contentAboveCursor ?? ''}${file.contentBelowCursor ?? ''}`;
  if (content.trim() === '') return '';
  return `\nThe current code file that the user sees is ${name} and has the following content:\n<content>\n${quoteData(content, 'content')}\n</content>\n`;
}

function scratchpadText(steps: readonly ScratchpadStep[]): string {
  return steps
    .map(
      (step) =>
        `Thought: ${step.thought}\nAction: ${step.action}\nAction Input: ${step.actionInput}\nObservation: <observation>\n${quoteData(step.observation, 'observation')}\n</observation>\n`,
    )
    .join('\n');
}

/**
 * Earlier turns as messages, newest kept first while the budget lasts, sent oldest first; a turn that does
 * not fit ends the history there (GitLab's Anthropic prompt assembly, reference §5.2).
 */
export function conversationWithinBudget(conversation: readonly LlmMessage[], budget: number): LlmMessage[] {
  const kept: LlmMessage[] = [];
  let remaining = budget;
  for (const turn of [...conversation].reverse()) {
    if (turn.content.length > remaining) break;
    kept.unshift(turn);
    remaining -= turn.content.length;
  }
  // A conversation sent to a model starts with the user.
  while (kept[0]?.role === 'assistant') kept.shift();
  return kept;
}

export interface AgentPromptInput {
  render(variables: Record<string, string>): LlmRequest;
  tools: readonly ChatTool[];
  question: string;
  resource: Resource | null;
  currentFile?: CurrentFile | undefined;
  conversation: readonly LlmMessage[];
  steps: readonly ScratchpadStep[];
}

/** The request for the agent's next step: the prompt definition filled in, history within the budget. */
export function buildAgentRequest(input: AgentPromptInput): LlmRequest {
  const rendered = input.render({
    tools_definitions: toolDefinitions(input.tools),
    tool_names: input.tools.map((tool) => tool.name).join(', '),
    resources: [...new Set(input.tools.map((tool) => tool.resourceName))].join(', '),
    current_resource: currentResourceText(input.resource),
    current_code: currentCodeText(input.currentFile),
    question: input.question,
    agent_scratchpad: input.steps.length > 0 ? `${scratchpadText(input.steps)}\nContinue with your next Thought.` : '',
  });
  const used =
    (rendered.system?.length ?? 0) + rendered.messages.reduce((total, message) => total + message.content.length, 0);
  const history = conversationWithinBudget(input.conversation, Math.max(0, agentPromptCharacters - used));
  return {
    ...rendered,
    messages: [...history, ...rendered.messages],
    stopSequences: [...(rendered.stopSequences ?? []), ...agentStopWords],
  };
}
