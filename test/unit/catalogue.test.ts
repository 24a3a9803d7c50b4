import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { aiActionCatalogue } from '../../src/actions/catalogue.ts';
import { printedSchema } from '../../src/schema/index.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('the AI action catalogue', () => {
  it('has unique GraphQL keys and GitLab action names', () => {
    const names = aiActionCatalogue.map((action) => action.name);
    const actionNames = aiActionCatalogue.map((action) => action.actionName);
    expect(new Set(names).size).toBe(names.length);
    expect(new Set(actionNames).size).toBe(actionNames.length);
    for (const action of aiActionCatalogue) {
      expect(action.name).toMatch(/^[a-z][A-Za-z]+$/);
      expect(action.actionName).toMatch(/^[a-z][a-z_]+$/);
      expect(['experimental', 'beta', 'ga']).toContain(action.maturity);
      expect(action.description.length).toBeGreaterThan(10);
    }
  });

  it.each(aiActionCatalogue.map((action) => [action.name, action] as const))(
    '%s accepts its example input',
    (_name, action) => {
      expect(action.input.safeParse(action.exampleInput).success).toBe(true);
      expect(action.resourceRequired ? action.resourceTypes.length > 0 : true).toBe(true);
    },
  );

  it('generates the aiAction input from the catalogue', () => {
    for (const action of aiActionCatalogue.filter((candidate) => !candidate.internal)) {
      expect(printedSchema).toContain(`${action.name}: ${action.graphqlInputName}`);
      expect(printedSchema).toContain(`input ${action.graphqlInputName} {`);
    }
    expect(printedSchema).toMatch(
      /input AiExplainCodeInput \{\n\s+messages: \[AiExplainCodeMessageInput!\]!\n\s+resourceId: AiModelID!/,
    );
  });

  it('matches the committed schema.graphql (run `npm run schema:print` after a deliberate change)', () => {
    expect(printedSchema.trim()).toBe(readFileSync(path.join(root, 'schema.graphql'), 'utf8').trim());
  });
});
