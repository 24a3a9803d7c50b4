import type { LlmFinishReason } from '../../types.ts';

/** Anthropic `stop_reason` → our finish reason; unknown future values become `other` rather than failing. */
export function mapAnthropicStopReason(stopReason: string | null | undefined): LlmFinishReason {
  switch (stopReason) {
    case 'end_turn':
      return 'stop';
    case 'stop_sequence':
      return 'stop-sequence';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'refusal':
      return 'content-filter';
    default:
      return 'other';
  }
}
