import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { z } from 'zod';

const addOnSchema = z.enum(['duo_pro', 'duo_enterprise']);
export type AddOn = z.infer<typeof addOnSchema>;

const accessDataSchema = z.object({
  services: z.record(
    z.string(),
    z.object({
      backend: z.string(),
      bundled_with: z.partialRecord(addOnSchema, z.object({ unit_primitives: z.array(z.string().min(1)).min(1) })),
    }),
  ),
});

export const cloudConnectorFile = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../config/cloud_connector.yml',
);

/** Unit primitive → the add-ons that bundle it. */
export type UnitPrimitiveBundles = ReadonlyMap<string, ReadonlySet<AddOn>>;

/** Reads and validates the Cloud Connector access data; a malformed file stops start-up. */
export function loadUnitPrimitiveBundles(file: string = cloudConnectorFile): UnitPrimitiveBundles {
  const parsed = accessDataSchema.safeParse(parse(readFileSync(file, 'utf8')));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`Invalid Cloud Connector access data in ${file} at ${issue?.path.join('.')}: ${issue?.message}`);
  }
  const bundles = new Map<string, Set<AddOn>>();
  for (const service of Object.values(parsed.data.services)) {
    for (const [addOn, bundle] of Object.entries(service.bundled_with) as [AddOn, { unit_primitives: string[] }][]) {
      for (const unitPrimitive of bundle.unit_primitives) {
        const addOns = bundles.get(unitPrimitive) ?? new Set<AddOn>();
        addOns.add(addOn);
        bundles.set(unitPrimitive, addOns);
      }
    }
  }
  return bundles;
}
