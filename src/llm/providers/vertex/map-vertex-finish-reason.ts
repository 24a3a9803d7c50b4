import type { LlmFinishReason } from '../../types.ts';

/** Gemini `finishReason` → ours. Gemini reports a matched stop sequence as plain `STOP`. */
export function mapVertexFinishReason(finishReason: string | undefined): LlmFinishReason {
  switch (finishReason) {
    case 'STOP':
      return 'stop';
    case 'MAX_TOKENS':
      return 'length';
    case 'SAFETY':
    case 'RECITATION':
    case 'BLOCKLIST':
    case 'PROHIBITED_CONTENT':
    case 'SPII':
    case 'IMAGE_SAFETY':
    case 'IMAGE_PROHIBITED_CONTENT':
      return 'content-filter';
    default:
      return 'other';
  }
}
