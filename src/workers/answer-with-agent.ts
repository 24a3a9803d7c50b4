import type { AiActionPlan } from '../actions/define-ai-action.ts';
import type { Resource } from '../auth/resources.ts';
import type { AuthUser } from '../auth/tokens.ts';
import { runChatAgent } from '../chat/agent/run-chat-agent.ts';
import { chatTools } from '../chat/tools/index.ts';
import type { LlmMessage, LlmProvider } from '../llm/types.ts';
import type { WorkerServices } from './process-ai-action.ts';
import type { ProducedAnswer } from './produced-answer.ts';
import type { AiActionJobData } from './queues.ts';

/** Runs Duo Chat's agent for one question, with the tools, the prompt definition and the job's flags. */
export async function answerWithAgent(
  services: WorkerServices,
  options: {
    provider: LlmProvider;
    plan: Extract<AiActionPlan, { kind: 'agent' }>;
    user: AuthUser;
    resource: Resource | null;
    conversation: readonly LlmMessage[];
    data: AiActionJobData;
    publishChunk(text: string): Promise<void>;
    publishToolNotice(humanName: string): Promise<void>;
    signal: AbortSignal | undefined;
  },
): Promise<ProducedAnswer> {
  const { data } = options;
  const model = services.providers.modelFor?.('chat');
  const outcome = await runChatAgent({
    provider: options.provider,
    render: (variables) =>
      services.prompts.render('chat', variables, {
        model,
        migrated: data.enabledFeatureFlags.includes('prompt_migration_chat'),
      }),
    tools: chatTools,
    question: options.plan.question,
    conversation: options.conversation,
    currentFile: options.plan.currentFile,
    toolContext: {
      db: services.db,
      directory: services.directory,
      user: options.user,
      resource: options.resource,
      ...(services.documentation ? { documentation: services.documentation } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      logger: services.logger.child({ requestId: data.requestId }),
    },
    publishChunk: options.publishChunk,
    publishToolNotice: options.publishToolNotice,
    enabledFeatureFlags: data.enabledFeatureFlags,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (outcome.defaulted) {
    services.tracker?.track({
      category: 'Gitlab::Llm::Chain::Agents::ZeroShot::Executor',
      action: 'default_answer',
      label: 'gitlab_duo_chat_answer',
      property: data.requestId,
      userId: options.user.id,
      client: data.client,
    });
  }
  return {
    content: outcome.content,
    status: outcome.status,
    sources: outcome.sources,
    model: outcome.model,
    usage: outcome.usage,
    toolsUsed: outcome.toolsUsed,
  };
}
