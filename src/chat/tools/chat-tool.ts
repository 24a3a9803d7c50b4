import type { AccessDirectory } from '../../auth/access-directory.ts';
import type { Resource } from '../../auth/resources.ts';
import type { AuthUser } from '../../auth/tokens.ts';
import type { Database } from '../../db/client.ts';
import type { LlmProvider, LlmUsage } from '../../llm/types.ts';
import type { Logger } from '../../logger.ts';
import type { DocumentationRetriever } from '../../rag/documentation-retriever.ts';

/** What a tool may use while it runs; everything it reads is checked against `user`. */
export interface ChatToolContext {
  db: Database;
  directory: AccessDirectory;
  user: AuthUser;
  /** The resource the chat is about (already re-checked for readability), or null. */
  resource: Resource | null;
  /** The user's question, as typed. */
  question: string;
  provider: LlmProvider;
  /** Documentation search; absent when the process has none. */
  documentation?: DocumentationRetriever;
  /** Streams part of a final answer that the tool writes itself (documentation, CI assistant). */
  streamAnswer(text: string): Promise<void>;
  /** Reports tokens a tool spent on its own model call. */
  reportUsage(model: string, usage: LlmUsage): void;
  signal?: AbortSignal;
  logger: Logger;
}

/**
 * A tool's result: an observation the agent reads before its next step, or a final answer that ends the
 * turn (GitLab's `Answer` with `is_final`).
 */
export type ChatToolResult =
  | { kind: 'observation'; content: string }
  | {
      kind: 'final';
      content: string;
      status: 'completed' | 'error';
      sources?: Record<string, unknown>[];
      /** The text was already streamed by the tool through `streamAnswer`. */
      streamed: boolean;
    };

/** One tool of the Duo Chat agent (GitLab's `Tools::*::Executor`): one file each under `src/chat/tools`. */
export interface ChatTool {
  /** `NAME`: what the model writes after `Action:`. */
  name: string;
  /** `HUMAN_NAME`: the tool notice users see while it runs. */
  humanName: string;
  /** `DESCRIPTION`, shown to the model. */
  description: string;
  /** `EXAMPLE`, shown to the model after "Here is an example of using this tool:". */
  example: string;
  /** `RESOURCE_NAME`: what the tool reads, listed in the prompt's accessible resources. */
  resourceName: string;
  run(input: string, context: ChatToolContext): Promise<ChatToolResult>;
}

/** GitLab's answer when a tool's resource does not exist or the user may not read it. */
export const unableToFindMessage = 'I am sorry, I am unable to find what you are looking for.';

/** GitLab's answer when the agent picks a tool it already used in this turn. */
export function alreadyUsedMessage(tool: ChatTool): string {
  return `You already have the answer from ${tool.name} tool, read carefully.`;
}

export function notFound(): ChatToolResult {
  return { kind: 'final', content: unableToFindMessage, status: 'error', streamed: false };
}
