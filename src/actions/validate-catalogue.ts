import type { UnitPrimitiveBundles } from './cloud-connector.ts';
import type { AiActionDefinition } from './define-ai-action.ts';

export class CatalogueError extends Error {
  override name = 'CatalogueError';
}

/**
 * Start-up check of the catalogue: unique GraphQL and GitLab names, a known maturity, a unit primitive
 * that some add-on bundles, example input that passes the action's own schema. Throws on the first
 * problem with a message naming the action.
 */
export function validateCatalogue(actions: readonly AiActionDefinition[], bundles: UnitPrimitiveBundles): void {
  const seen = new Set<string>();
  for (const action of actions) {
    const where = `AI action ${JSON.stringify(action.name ?? '?')}`;
    if (typeof action.name !== 'string' || !/^[a-z][A-Za-z]+$/.test(action.name)) {
      throw new CatalogueError(`${where}: name must be a camelCase GraphQL key`);
    }
    if (typeof action.actionName !== 'string' || !/^[a-z][a-z_]+$/.test(action.actionName)) {
      throw new CatalogueError(`${where}: actionName must be GitLab's snake_case name`);
    }
    for (const key of new Set([action.name, action.actionName])) {
      if (seen.has(key)) throw new CatalogueError(`${where}: ${key} is used by two actions`);
      seen.add(key);
    }
    if (!['experimental', 'beta', 'ga'].includes(action.maturity)) {
      throw new CatalogueError(`${where}: maturity must be experimental, beta or ga`);
    }
    if (typeof action.description !== 'string' || action.description.length < 10) {
      throw new CatalogueError(`${where}: needs a description`);
    }
    if (!bundles.has(action.unitPrimitive)) {
      throw new CatalogueError(
        `${where}: unit primitive ${JSON.stringify(action.unitPrimitive)} is bundled with no add-on in config/cloud_connector.yml`,
      );
    }
    if (!['ai_action', 'none'].includes(action.rateLimitClass)) {
      throw new CatalogueError(`${where}: rateLimitClass must be ai_action or none`);
    }
    if (!Array.isArray(action.promptVariables)) throw new CatalogueError(`${where}: promptVariables must be a list`);
    if (action.resourceRequired && action.resourceTypes.length === 0) {
      throw new CatalogueError(`${where}: requires a resource but accepts no resource type`);
    }
    const example = action.input.safeParse(action.exampleInput);
    if (!example.success) {
      throw new CatalogueError(
        `${where}: exampleInput does not pass its input schema: ${example.error.issues[0]?.message}`,
      );
    }
  }
}
