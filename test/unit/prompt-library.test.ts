import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { aiActionCatalogue } from '../../src/actions/catalogue.ts';
import { loadPromptLibrary, PromptDefinitionError } from '../../src/prompts/prompt-library.ts';

const directories: string[] = [];
function definitions(files: Record<string, string>): string {
  const directory = mkdtempSync(path.join(tmpdir(), 'prompts-'));
  directories.push(directory);
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(directory, file)), { recursive: true });
    writeFileSync(path.join(directory, file), content);
  }
  return directory;
}
afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

const base = 'name: T\nprompt_template:\n  system: Be brief.\n  user: "Explain {code}"\n';

describe('prompt definitions', () => {
  it('loads every feature of the catalogue from the repository', () => {
    const library = loadPromptLibrary({
      features: new Map(aiActionCatalogue.map((action) => [action.actionName, action.promptVariables])),
      knownModels: ['gemini-2.5-flash', 'fake-model'],
    });
    for (const action of aiActionCatalogue) expect(library.has(action.actionName)).toBe(true);
  });

  it('renders placeholders once, picks the model file, and the migrated file behind its flag', () => {
    const directory = definitions({
      'explain_code/base.yml': `${base}model:\n  params:\n    max_tokens: 99\n    temperature: 0.3\n`,
      'explain_code/gemini-2.5-flash.yml': 'name: G\nprompt_template:\n  user: "Gemini: {code}"\n',
      'explain_code/migrated.yml': 'name: M\nprompt_template:\n  user: "Migrated: {code}"\n',
    });
    const library = loadPromptLibrary({
      features: new Map([['explain_code', ['code']]]),
      knownModels: ['gemini-2.5-flash'],
      directory,
    });
    expect(library.render('explain_code', { code: 'x {code} y' })).toEqual({
      system: 'Be brief.',
      messages: [{ role: 'user', content: 'Explain x {code} y' }],
      maxTokens: 99,
      temperature: 0.3,
    });
    expect(library.render('explain_code', { code: 'a' }, { model: 'gemini-2.5-flash' }).messages[0]?.content).toBe(
      'Gemini: a',
    );
    expect(library.render('explain_code', { code: 'a' }, { model: 'other' }).messages[0]?.content).toBe('Explain a');
    expect(library.render('explain_code', { code: 'a' }, { migrated: true }).messages[0]?.content).toBe('Migrated: a');
  });

  it('stops start-up on a placeholder the action does not provide', () => {
    const directory = definitions({
      'explain_code/base.yml': 'name: T\nprompt_template:\n  user: "{code} and {language}"\n',
    });
    expect(() =>
      loadPromptLibrary({ features: new Map([['explain_code', ['code']]]), knownModels: [], directory }),
    ).toThrow(/explain_code\/base\.yml uses \{language\}, which explain_code does not provide/);
  });

  it('stops start-up on a file named after an unknown model', () => {
    const directory = definitions({ 'explain_code/base.yml': base, 'explain_code/gpt-9.yml': base });
    expect(() =>
      loadPromptLibrary({
        features: new Map([['explain_code', ['code']]]),
        knownModels: ['gemini-2.5-flash'],
        directory,
      }),
    ).toThrow(/named after an unknown model "gpt-9"/);
  });

  it('stops start-up on a missing or malformed definition', () => {
    const empty = definitions({ 'other/base.yml': base });
    expect(() =>
      loadPromptLibrary({ features: new Map([['explain_code', ['code']]]), knownModels: [], directory: empty }),
    ).toThrow(PromptDefinitionError);
    const malformed = definitions({
      'explain_code/base.yml': 'name: T\nprompt_template:\n  system: only a system prompt\n',
    });
    expect(() =>
      loadPromptLibrary({ features: new Map([['explain_code', ['code']]]), knownModels: [], directory: malformed }),
    ).toThrow(/Invalid prompt definition .*prompt_template\.user/);
  });
});

describe('model selection in prompt definitions', () => {
  it('names the provider and model a feature asks for when the base definition has both', () => {
    const directory = definitions({
      'explain_code/base.yml': `${base}model:\n  name: gpu-model\n  provider: self_hosted\n`,
      'chat/base.yml': 'name: C\nmodel:\n  name: only-a-name\nprompt_template:\n  user: "{code}"\n',
    });
    const library = loadPromptLibrary({
      features: new Map([
        ['explain_code', ['code']],
        ['chat', ['code']],
      ]),
      knownModels: [],
      directory,
    });
    expect(library.defaultModel('explain_code')).toEqual({ provider: 'self_hosted', model: 'gpu-model' });
    expect(library.defaultModel('chat')).toBeUndefined();
  });
});
