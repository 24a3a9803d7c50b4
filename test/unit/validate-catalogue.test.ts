import { describe, expect, it } from 'vitest';
import { aiActionCatalogue } from '../../src/actions/catalogue.ts';
import { loadUnitPrimitiveBundles } from '../../src/actions/cloud-connector.ts';
import type { AiActionDefinition } from '../../src/actions/define-ai-action.ts';
import { CatalogueError, validateCatalogue } from '../../src/actions/validate-catalogue.ts';

const bundles = loadUnitPrimitiveBundles();
const catalogue = aiActionCatalogue as unknown as AiActionDefinition[];
const first = catalogue[0] as AiActionDefinition;

describe('catalogue validation at start-up', () => {
  it('accepts the catalogue as shipped', () => {
    expect(() => validateCatalogue(catalogue, bundles)).not.toThrow();
  });

  it.each([
    ['a missing description', { description: undefined }, /needs a description/],
    ['a duplicate name', { name: 'explainCode' }, /explainCode is used by two actions/],
    ['an unknown maturity', { maturity: 'alpha' }, /maturity must be/],
    ['a unit primitive no add-on bundles', { unitPrimitive: 'teleport' }, /"teleport" is bundled with no add-on/],
    ['an example that fails its schema', { exampleInput: {} }, /exampleInput does not pass/],
    ['a missing prompt variable list', { promptVariables: undefined }, /promptVariables must be a list/],
  ])('refuses %s', (_label, change, message) => {
    const broken = { ...first, ...change } as unknown as AiActionDefinition;
    expect(() => validateCatalogue([broken, ...catalogue.slice(1)], bundles)).toThrow(CatalogueError);
    expect(() => validateCatalogue([broken, ...catalogue.slice(1)], bundles)).toThrow(message);
  });
});
