import { z } from 'zod';
import { configSchema } from './schema.js';

/** One leaf of the configuration, as the loader and the reference generator see it. */
export interface Setting {
  /** Dotted key, e.g. `redis.url`. */
  key: string;
  path: string[];
  /** The environment variable; empty for a setting only a YAML file can set (`fileOnly`). */
  env: string;
  /** `list`: an array of strings, comma-separated in the environment; `object`: structured, file only. */
  type: 'string' | 'number' | 'integer' | 'boolean' | 'list' | 'object';
  secret: boolean;
  description: string;
  default?: unknown;
  enum?: readonly unknown[];
}

interface JsonSchemaNode {
  type?: string;
  items?: JsonSchemaNode;
  fileOnly?: boolean;
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
  if (!node.env && !node.fileOnly)
    throw new Error(`config setting ${path.join('.')} has neither an env name nor fileOnly in its metadata`);
  const type =
    node.type === 'number' || node.type === 'integer' || node.type === 'boolean'
      ? node.type
      : node.type === 'array' && node.items?.type === 'string'
        ? 'list'
        : node.type === 'array' || node.type === 'object'
          ? 'object'
          : 'string';
  into.push({
    key: path.join('.'),
    path,
    env: node.env ?? '',
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
