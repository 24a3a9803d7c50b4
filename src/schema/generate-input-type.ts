import type { InputFieldRef, InputObjectRef } from '@pothos/core';
import { z } from 'zod';
import { builder } from './builder.ts';

/** The subset of JSON Schema that zod emits for action inputs. */
interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  graphqlType?: string;
  graphqlName?: string;
}

type AnyInputRef = InputObjectRef<never, Record<string, unknown>>;
type FieldBuilder = Parameters<Parameters<typeof builder.inputType>[1]['fields']>[0];

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function scalarFor(schema: JsonSchema, path: string): string {
  if (schema.graphqlType) return schema.graphqlType;
  if (schema.type === 'string') return 'String';
  if (schema.type === 'boolean') return 'Boolean';
  if (schema.type === 'integer') return 'Int';
  if (schema.type === 'number') return 'Float';
  throw new Error(`Cannot generate a GraphQL input for ${path}: unsupported JSON schema type ${schema.type}`);
}

function fieldFor(t: FieldBuilder, schema: JsonSchema, required: boolean, path: string, typeName: string) {
  if (schema.type === 'array') {
    const items = schema.items;
    if (!items) throw new Error(`Cannot generate a GraphQL input for ${path}: array without items`);
    const itemType =
      items.type === 'object'
        ? objectInput(items, items.graphqlName ?? `${typeName}Item`, path)
        : (scalarFor(items, path) as 'String');
    return t.field({ type: [itemType] as never, required: (required ? { list: true, items: true } : false) as never });
  }
  if (schema.type === 'object') {
    return t.field({ type: objectInput(schema, schema.graphqlName ?? typeName, path), required });
  }
  return t.field({ type: scalarFor(schema, path) as 'String', required });
}

const generated = new Map<string, AnyInputRef>();

function objectInput(schema: JsonSchema, name: string, path: string): AnyInputRef {
  const existing = generated.get(name);
  if (existing) return existing;
  const required = new Set(schema.required ?? []);
  const ref = builder.inputType(name, {
    fields: (t) => {
      const fields: Record<string, InputFieldRef<never, unknown>> = {};
      for (const [fieldName, fieldSchema] of Object.entries(schema.properties ?? {})) {
        fields[fieldName] = fieldFor(
          t,
          fieldSchema,
          required.has(fieldName),
          `${path}.${fieldName}`,
          `${name.replace(/Input$/, '')}${capitalize(fieldName)}Input`,
        ) as unknown as InputFieldRef<never, unknown>;
      }
      return fields;
    },
  }) as unknown as AnyInputRef;
  generated.set(name, ref);
  return ref;
}

/**
 * Generates a GraphQL input type from a zod schema, so the schema of an action's arguments is
 * written once. String fields marked with `.meta({ graphqlType })` become ID scalars; nested
 * objects become input types named by `.meta({ graphqlName })`.
 */
export function inputTypeFromZod(name: string, schema: z.ZodType): AnyInputRef {
  const jsonSchema = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'throw' }) as JsonSchema;
  if (jsonSchema.type !== 'object') throw new Error(`The input of ${name} must be an object schema`);
  return objectInput(jsonSchema, name, name);
}
