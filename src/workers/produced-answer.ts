import type { LlmUsage } from '../llm/types.ts';

/** What a job produced before its final message is published. */
export interface ProducedAnswer {
  content: string;
  status: 'completed' | 'error';
  sources: Record<string, unknown>[];
  /** `provider:model` that answered. */
  model: string | null;
  usage: LlmUsage | undefined;
  /** Chat agent tools that ran, in order; empty for other actions. */
  toolsUsed: string[];
}
