import { sql } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { aiUsageDaily } from '../db/schema/ai-usage.ts';
import type { LlmUsage } from './types.ts';

/** Adds one request's tokens to the user's daily total (one upsert: concurrent workers add, never overwrite). */
export async function recordUsage(
  db: Database,
  entry: { userId: number; feature: string; model: string; usage: LlmUsage; at?: Date },
): Promise<void> {
  const day = (entry.at ?? new Date()).toISOString().slice(0, 10);
  const estimated = entry.usage.estimated ? 1 : 0;
  await db
    .insert(aiUsageDaily)
    .values({
      userId: entry.userId,
      day,
      feature: entry.feature,
      model: entry.model,
      requests: 1,
      inputTokens: entry.usage.inputTokens,
      outputTokens: entry.usage.outputTokens,
      estimatedRequests: estimated,
    })
    .onConflictDoUpdate({
      target: [aiUsageDaily.userId, aiUsageDaily.day, aiUsageDaily.feature, aiUsageDaily.model],
      set: {
        requests: sql`${aiUsageDaily.requests} + 1`,
        inputTokens: sql`${aiUsageDaily.inputTokens} + ${entry.usage.inputTokens}`,
        outputTokens: sql`${aiUsageDaily.outputTokens} + ${entry.usage.outputTokens}`,
        estimatedRequests: sql`${aiUsageDaily.estimatedRequests} + ${estimated}`,
      },
    });
}
