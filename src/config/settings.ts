import { z } from 'zod';
import { configSchema } from './schema.js';

/** One leaf of the configuration, as the loader and the reference generator see it. */
export interface Setting {
  /** Dotted key, e.g. `redis.url`. */
  key: string;
  path: string[];
  env: string;
  type: 'string' | 'number' | 'integer' | 'boolean';
  secret: boolean;
  description: string;
  default?: unknown;
  enum?: readonly unknown[];
}

interface JsonSchemaNode {
  type?: string;
  properties?: Record<string, JsonSchemaNode>;
  env?: string;
  secret?: boolean;
  description?: string;
  default?: unknown;
  enum?: unknown[];
}

function collect(node: JsonSchemaNode, path: string[], into: Setting[]): void {
  if (node.properties) {
    for (const [name, child] of Object.entries(node.properties)) collect(child, [...path, name], into);
    return;
  }
  if (!node.env) throw new Error(`config setting ${path.join('.')} has no env name in its metadata`);
  const type =
    node.type === 'number' || node.type === 'integer' || node.type === 'boolean' ? node.type : 'string';
  into.push({
    key: path.join('.'),
    path,
    env: node.env,
    type,
    secret: node.secret === true,
    description: node.description ?? '',
    ...(node.default === undefined ? {} : { default: node.default }),
    ...(node.enum ? { enum: node.enum } : {}),
  });
}

let cached: Setting[] | undefined;

/** Every leaf setting, in schema order; derived once from the zod schema. */
export function settings(): readonly Setting[] {
  if (!cached) {
    const json = z.toJSONSchema(configSchema, { io: 'input' }) as JsonSchemaNode;
    const found: Setting[] = [];
    collect(json, [], found);
    cached = found;
  }
  return cached;
}

/** Environment variables that are read but are not settings themselves. */
export const NON_SETTING_ENV = new Set(['NIGHTSHIFT_CONFIG', 'NIGHTSHIFT_SKIP_NEO4J']);
