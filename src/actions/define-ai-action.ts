import type { z } from 'zod';
import type { Resource, ResourceType } from '../auth/resources.ts';
import type { AuthUser } from '../auth/tokens.ts';
import type { CurrentFile } from '../chat/agent/agent-prompt.ts';
import type { Database } from '../db/client.ts';
import type { LlmRequest } from '../llm/types.ts';
import type { Logger } from '../logger.ts';
import type { EventTracker } from '../tracking/event-tracker.ts';

export type Maturity = 'experimental' | 'beta' | 'ga';

/** What the worker hands an action when it runs. */
export interface AiActionRunContext<Input> {
  db: Database;
  user: AuthUser;
  /** The resource, re-checked for readability when the job runs; null when it was dropped or absent. */
  resource: Resource | null;
  input: Input;
  requestId: string;
  /**
   * For actions that keep chat history: the earlier turns of the current conversation (after the
   * last `/reset`), oldest first, without this request's own messages. Empty for other actions.
   */
  conversation: readonly { role: 'user' | 'assistant'; content: string }[];
}

/**
 * How an action answers: `prompt` fills the action's prompt definition
 * (`prompts/definitions/<actionName>/*.yml`) with variables; `request` is a ready model request;
 * `answer` is a fixed answer that needs no model.
 */
export type AiActionPlan =
  | {
      kind: 'prompt';
      variables: Record<string, string>;
      /** Another feature's prompt definition to fill (a chat slash command reusing an action's prompt). */
      feature?: string;
    }
  | { kind: 'request'; request: LlmRequest }
  | { kind: 'answer'; content: string }
  /** Duo Chat's agent: the question goes through the tool-using ReAct loop (`src/chat/agent`). */
  | { kind: 'agent'; question: string; currentFile?: CurrentFile | undefined };

export interface AiActionDefinition<Input extends Record<string, unknown> = Record<string, unknown>> {
  /** GraphQL key, camelCase (`explainCode`). */
  name: string;
  /** GitLab's `ai_action`, snake_case (`explain_code`): job name, subscription enum value, tracking label. */
  actionName: string;
  description: string;
  maturity: Maturity;
  /** GraphQL name of the generated input type (`AiExplainCodeInput`). */
  graphqlInputName: string;
  /**
   * The action's arguments. The GraphQL input type is generated from this schema; its limits are
   * checked before anything is enqueued. `resourceId` is declared here too when the action takes one.
   */
  input: z.ZodType<Input>;
  /** Resource types the action accepts; empty when it takes none. */
  resourceTypes: readonly ResourceType[];
  resourceRequired: boolean;
  /** Available on self-managed instances (GitLab's `self_managed`). */
  selfManaged: boolean;
  /** Internal actions (e.g. `categorize_question`) are not exposed on GraphQL. */
  internal: boolean;
  /** The Cloud Connector unit primitive (config/cloud_connector.yml) whose add-on seat the user needs. */
  unitPrimitive: string;
  /** Per-feature flag that must be on for the user and container; none when the action has no flag of its own. */
  featureFlag?: string;
  /** `ai_action`: counts against the user's 160 requests per 8 hours; `none`: internal follow-ups. */
  rateLimitClass: 'ai_action' | 'none';
  /** The `{placeholders}` this action fills in its prompt definition; start-up checks the files against it. */
  promptVariables: readonly string[];
  /** Chat keeps its user and assistant messages in the user's history; other actions keep nothing. */
  storesInChatHistory: boolean;
  /** Example arguments that must build a valid prompt (checked by the catalogue test). */
  exampleInput: Input;
  plan(context: AiActionRunContext<Input>): Promise<AiActionPlan>;
  /**
   * For internal actions whose answer is for the service, not for a user (categorize_question): the worker
   * hands the model's whole answer here and publishes nothing.
   */
  consumeAnswer?(answer: string, context: AiAnswerContext): Promise<void>;
}

/** What {@link AiActionDefinition.consumeAnswer} may use. */
export interface AiAnswerContext {
  requestId: string;
  userId: number;
  client: string;
  tracker?: EventTracker | undefined;
  logger: Logger;
}

/** Identity function that keeps the input type attached to the definition. */
export function defineAiAction<Input extends Record<string, unknown>>(
  definition: AiActionDefinition<Input>,
): AiActionDefinition<Input> {
  return definition;
}
