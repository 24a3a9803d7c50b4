import { headWithinBudget, quoteData } from '../../actions/describe-resource.ts';

/** Room for one tool observation in the agent's 30,000-character prompt. */
export const maxObservationCharacters = 12_000;

/**
 * A resource as the agent reads it: JSON inside `<resource>` tags, with any closing tag in the data
 * defused, so text in an issue cannot end the block and pose as instructions (the system prompt says
 * what is inside is data).
 */
export function quoteResource(kind: string, fields: Record<string, unknown>): string {
  const json = headWithinBudget(JSON.stringify(fields, null, 2), maxObservationCharacters);
  return `<resource type="${kind}">\n${quoteData(json, 'resource')}\n</resource>`;
}
