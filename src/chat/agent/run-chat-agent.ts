import type { LlmMessage, LlmProvider, LlmRequest, LlmUsage } from '../../llm/types.ts';
import type { ChatTool, ChatToolContext } from '../tools/chat-tool.ts';
import { alreadyUsedMessage } from '../tools/chat-tool.ts';
import { buildAgentRequest, type CurrentFile, type ScratchpadStep } from './agent-prompt.ts';
import { createFinalAnswerStream } from './final-answer-stream.ts';
import { parseAgentOutput } from './parse-agent-output.ts';

/** GitLab's `MAX_ITERATIONS`. */
export const maxAgentIterations = 10;

/** GitLab's default answer when the agent never reaches a final answer (exact text, reference §5.2). */
export const defaultAgentAnswer =
  "I'm sorry, I can't find the answer, but it's my fault, not yours. Please try something different.";

/** How one chat turn ended. */
export interface AgentOutcome {
  content: string;
  status: 'completed' | 'error';
  sources: Record<string, unknown>[];
  /** Tool names in the order they ran (GitLab's `context.tools_used`). */
  toolsUsed: string[];
  /** `provider:model` of the last model call. */
  model: string | null;
  /** Tokens over every model call of the turn. */
  usage: LlmUsage | undefined;
  /** True when GitLab's default answer was given (no final answer after 10 steps). */
  defaulted: boolean;
}

export interface RunChatAgentOptions {
  provider: LlmProvider;
  /** Fills the chat prompt definition (`prompts/definitions/chat`). */
  render(variables: Record<string, string>): LlmRequest;
  tools: readonly ChatTool[];
  question: string;
  conversation: readonly LlmMessage[];
  currentFile?: CurrentFile | undefined;
  /** Everything tools need; `streamAnswer` and `reportUsage` are supplied by the agent. */
  toolContext: Omit<ChatToolContext, 'streamAnswer' | 'reportUsage' | 'question' | 'provider'>;
  /** Streams a piece of the final answer to the requesting client. */
  publishChunk(text: string): Promise<void>;
  /** Tells the requesting client which tool runs (GitLab's tool notice with the tool's human name). */
  publishToolNotice(humanName: string): Promise<void>;
  enabledFeatureFlags?: readonly string[];
  signal?: AbortSignal;
  maxIterations?: number;
}

function addUsage(total: LlmUsage | undefined, more: LlmUsage): LlmUsage {
  if (!total) return { ...more };
  return {
    inputTokens: total.inputTokens + more.inputTokens,
    outputTokens: total.outputTokens + more.outputTokens,
    estimated: total.estimated || more.estimated,
  };
}

/**
 * GitLab's zero-shot ReAct executor (reference §5.2): ask the model for a step, run the tool it names,
 * feed the observation back, until a final answer or 10 steps. Only text after `Final Answer:` reaches
 * the user, as it arrives. Provider errors are thrown: the worker decides between a retry and an error
 * message.
 */
export async function runChatAgent(options: RunChatAgentOptions): Promise<AgentOutcome> {
  const steps: ScratchpadStep[] = [];
  const toolsUsed: string[] = [];
  let usage: LlmUsage | undefined;
  let model: string | null = null;
  const reportUsage = (usedModel: string, used: LlmUsage) => {
    model = usedModel;
    usage = addUsage(usage, used);
  };
  const toolContext: ChatToolContext = {
    ...options.toolContext,
    question: options.question,
    provider: options.provider,
    streamAnswer: options.publishChunk,
    reportUsage,
  };
  const outcome = (content: string, rest: Partial<AgentOutcome> = {}): AgentOutcome => ({
    content,
    status: 'completed',
    sources: [],
    toolsUsed,
    model,
    usage,
    defaulted: false,
    ...rest,
  });

  for (let iteration = 0; iteration < (options.maxIterations ?? maxAgentIterations); iteration++) {
    const request: LlmRequest = {
      ...buildAgentRequest({
        render: options.render,
        tools: options.tools,
        question: options.question,
        resource: options.toolContext.resource,
        currentFile: options.currentFile,
        conversation: options.conversation,
        steps,
      }),
      ...(options.enabledFeatureFlags ? { enabledFeatureFlags: options.enabledFeatureFlags } : {}),
    };
    const answerStream = createFinalAnswerStream();
    let text = '';
    for await (const part of options.provider.stream(request, options.signal ? { signal: options.signal } : {})) {
      if (part.type === 'text-delta') {
        text += part.text;
        const piece = answerStream.push(part.text);
        if (piece !== undefined) await options.publishChunk(piece);
      } else {
        reportUsage(part.model.includes(':') ? part.model : `${options.provider.id}:${part.model}`, part.usage);
      }
    }
    const rest = answerStream.finish();
    if (rest !== undefined) await options.publishChunk(rest);

    const step = parseAgentOutput(text);
    if (step.kind === 'final') {
      for (const chunk of answerStream.lateChunks(step.finalAnswer)) await options.publishChunk(chunk);
      return outcome(step.finalAnswer);
    }
    const tool = options.tools.find((candidate) => candidate.name.toLowerCase() === step.action.toLowerCase());
    let observation: string;
    if (!tool) {
      // GitLab gives up here with its default answer; telling the model lets it correct a misspelt name.
      observation = `There is no tool named "${step.action}". Use one of: ${options.tools.map((candidate) => candidate.name).join(', ')}, or DirectAnswer.`;
    } else {
      await options.publishToolNotice(tool.humanName);
      if (toolsUsed.includes(tool.name)) {
        observation = alreadyUsedMessage(tool);
      } else {
        toolsUsed.push(tool.name);
        const result = await tool.run(step.actionInput, toolContext);
        if (result.kind === 'final') {
          if (!result.streamed) await options.publishChunk(result.content);
          return outcome(result.content, { status: result.status, sources: result.sources ?? [] });
        }
        observation = result.content;
      }
    }
    steps.push({ thought: step.thought, action: step.action, actionInput: step.actionInput, observation });
  }
  return outcome(defaultAgentAnswer, { defaulted: true });
}
