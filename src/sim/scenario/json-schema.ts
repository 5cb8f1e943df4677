import { z } from 'zod';
import { estateSchema } from './estate-schema.js';
import { scenarioSchema } from './scenario-schema.js';

/**
 * The JSON Schema of estate and scenario files (draft 2020-12), generated from the zod
 * schemas: one document whose root accepts either kind, with `Estate` and `Scenario` under
 * `$defs`. Describes the input as written (durations as strings, defaults shown).
 */
export function evalsJsonSchema(): Record<string, unknown> {
  const registry = z.registry<{ id: string; title?: string; description?: string }>();
  registry.add(estateSchema, {
    id: 'Estate',
    title: 'nightshift Estate',
    description: 'evals/estates/<name>.yaml',
  });
  registry.add(scenarioSchema, {
    id: 'Scenario',
    title: 'nightshift Scenario',
    description: 'evals/scenarios/<name>.yaml',
  });
  const root = z.union([estateSchema, scenarioSchema]);
  const schema = z.toJSONSchema(root, { io: 'input', metadata: registry, unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  return {
    $schema: schema.$schema,
    $id: 'https://nightshift.dev/schemas/evals.schema.json',
    title: 'nightshift estate and scenario files',
    description:
      'apiVersion nightshift.dev/v1; kind Estate or Scenario. Generated from src/sim/scenario/ by scripts/eval-schema.ts.',
    ...Object.fromEntries(Object.entries(schema).filter(([key]) => key !== '$schema')),
  };
}
