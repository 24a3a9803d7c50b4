import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { z } from 'zod';
import type { LlmRequest } from '../llm/types.ts';

export const promptDefinitionsDirectory = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../prompts/definitions',
);

/** One prompt definition file, in the AI gateway's shape (`prompts/definitions/<feature>/base.yml`). */
const promptDefinitionSchema = z.object({
  name: z.string().min(1),
  model: z
    .object({
      name: z.string().min(1).optional(),
      /** With `name`: the provider and model that serve this feature unless a group or AI_PROVIDER chooses. */
      provider: z.enum(['anthropic', 'vertex', 'self_hosted', 'fake']).optional(),
      params: z
        .object({
          max_tokens: z.number().int().min(1).max(200_000).optional(),
          temperature: z.number().min(0).max(2).optional(),
          stop_sequences: z.array(z.string().min(1)).max(10).optional(),
        })
        .strict()
        .default({}),
    })
    .default({ params: {} }),
  prompt_template: z.object({ system: z.string().optional(), user: z.string().min(1) }).strict(),
});
export type PromptDefinition = z.infer<typeof promptDefinitionSchema>;

const placeholderPattern = /\{([a-z][a-z0-9_]*)\}/g;

function placeholdersOf(definition: PromptDefinition): Set<string> {
  const text = `${definition.prompt_template.system ?? ''}\n${definition.prompt_template.user}`;
  return new Set([...text.matchAll(placeholderPattern)].map((match) => match[1] as string));
}

export class PromptDefinitionError extends Error {
  override name = 'PromptDefinitionError';
}

/** The variants of one feature: `base`, `migrated` (behind `prompt_migration_<feature>`), and per-model files. */
export interface FeaturePrompts {
  base: PromptDefinition;
  migrated?: PromptDefinition;
  byModel: ReadonlyMap<string, PromptDefinition>;
}

export interface PromptLibrary {
  /**
   * Renders the feature's prompt: the migrated definition when `migrated`, else the file named after
   * `model` when there is one, else `base`. `{placeholders}` are replaced by the variables.
   */
  render(
    feature: string,
    variables: Record<string, string>,
    options?: { model?: string; migrated?: boolean },
  ): LlmRequest;
  has(feature: string): boolean;
  /** The provider and model the feature's base definition asks for, when it names both. */
  defaultModel(
    feature: string,
  ): { provider: 'anthropic' | 'vertex' | 'self_hosted' | 'fake'; model: string } | undefined;
}

/**
 * Loads every definition and checks it against the features that use it: each `{placeholder}` must be
 * a variable the feature provides, and a model-specific file must name a model the service knows.
 * Any problem stops start-up with a message naming the file.
 */
export function loadPromptLibrary(options: {
  /** feature → the variables its action provides. */
  features: ReadonlyMap<string, readonly string[]>;
  /** Model ids a model-specific file may be named after. */
  knownModels: readonly string[];
  directory?: string;
}): PromptLibrary {
  const directory = options.directory ?? promptDefinitionsDirectory;
  const prompts = new Map<string, FeaturePrompts>();
  for (const [feature, variables] of options.features) {
    const folder = path.join(directory, feature);
    if (!existsSync(path.join(folder, 'base.yml'))) {
      throw new PromptDefinitionError(`Missing prompt definition ${path.join(folder, 'base.yml')} for ${feature}`);
    }
    const byModel = new Map<string, PromptDefinition>();
    let base: PromptDefinition | undefined;
    let migrated: PromptDefinition | undefined;
    for (const fileName of readdirSync(folder)
      .filter((name) => name.endsWith('.yml'))
      .sort()) {
      const file = path.join(folder, fileName);
      const parsed = promptDefinitionSchema.safeParse(parse(readFileSync(file, 'utf8')));
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new PromptDefinitionError(
          `Invalid prompt definition ${file} at ${issue?.path.join('.')}: ${issue?.message}`,
        );
      }
      const unknown = [...placeholdersOf(parsed.data)].filter((placeholder) => !variables.includes(placeholder));
      if (unknown.length > 0) {
        throw new PromptDefinitionError(
          `Prompt definition ${file} uses {${unknown.join('}, {')}}, which ${feature} does not provide (it provides ${variables.map((variable) => `{${variable}}`).join(', ') || 'nothing'})`,
        );
      }
      const variant = fileName.slice(0, -'.yml'.length);
      if (variant === 'base') base = parsed.data;
      else if (variant === 'migrated') migrated = parsed.data;
      else if (options.knownModels.includes(variant)) byModel.set(variant, parsed.data);
      else {
        throw new PromptDefinitionError(
          `Prompt definition ${file} is named after an unknown model "${variant}" (known: ${options.knownModels.join(', ')})`,
        );
      }
    }
    prompts.set(feature, { base: base as PromptDefinition, ...(migrated ? { migrated } : {}), byModel });
  }

  return {
    has: (feature) => prompts.has(feature),
    defaultModel(feature) {
      const model = prompts.get(feature)?.base.model;
      return model?.provider && model.name ? { provider: model.provider, model: model.name } : undefined;
    },
    render(feature, variables, renderOptions = {}) {
      const featurePrompts = prompts.get(feature);
      if (!featurePrompts) throw new PromptDefinitionError(`No prompt definition for ${feature}`);
      const definition =
        (renderOptions.migrated ? featurePrompts.migrated : undefined) ??
        (renderOptions.model ? featurePrompts.byModel.get(renderOptions.model) : undefined) ??
        featurePrompts.base;
      // One pass over the template: a value that itself contains `{name}` is never expanded again.
      const fill = (template: string) =>
        template.replace(placeholderPattern, (whole, name: string) => variables[name] ?? whole).trimEnd();
      const params = definition.model.params;
      return {
        ...(definition.prompt_template.system ? { system: fill(definition.prompt_template.system) } : {}),
        messages: [{ role: 'user', content: fill(definition.prompt_template.user) }],
        ...(params.max_tokens === undefined ? {} : { maxTokens: params.max_tokens }),
        ...(params.temperature === undefined ? {} : { temperature: params.temperature }),
        ...(params.stop_sequences === undefined ? {} : { stopSequences: params.stop_sequences }),
      };
    },
  };
}
