// Batch validation for the stores: each item checked against the graph schema, defaults filled
// in, all or nothing. Valid items of the common shapes pass a hand-written check
// (`quick-inputs.ts`); anything else goes through the zod schemas, which name the problems.
import type { z } from 'zod';
import { ValidationError, type Issue } from '../shared/errors.js';
import { quickEntity, quickEvent, quickRelationship } from './quick-inputs.js';
import {
  entityInputSchema,
  eventInputSchema,
  MAX_BATCH_ITEMS,
  normalizeSignature,
  relationshipInputSchema,
  SIGNATURE_PROPERTY,
  type EntityWrite,
  type EventWrite,
  type Properties,
  type PropertiesInput,
  type PropertyValue,
  type RelationshipWrite,
} from './schema.js';

function describeItem(index: number, item: unknown, key: 'id' | 'from'): string {
  if (item && typeof item === 'object') {
    const record = item as Record<string, unknown>;
    if (key === 'from' && typeof record.from === 'string') {
      return `${String(record.from)} -[${String(record.kind)}]-> ${String(record.to)}`;
    }
    if (typeof record.id === 'string') return record.id;
  }
  return `item ${index}`;
}

/**
 * Every item of `batch` through `quick`, else (when `quick` cannot tell it is valid) through
 * `schema`, which accepts it or names its problems.
 */
function validateBatch<T>(
  what: string,
  batch: unknown,
  schema: z.ZodType<T>,
  quick: (item: unknown) => T | undefined,
  key: 'id' | 'from',
): T[] {
  if (!Array.isArray(batch)) throw new ValidationError(what, [{ path: '', message: 'must be a list' }]);
  if (batch.length > MAX_BATCH_ITEMS) {
    throw new ValidationError(what, [
      { path: '', message: `has ${batch.length} items; the limit is ${MAX_BATCH_ITEMS} per batch` },
    ]);
  }
  const issues: Issue[] = [];
  const items: T[] = [];
  for (let index = 0; index < batch.length; index++) {
    const checked = quick(batch[index]);
    if (checked !== undefined) {
      items.push(checked);
      continue;
    }
    const parsed = schema.safeParse(batch[index]);
    if (parsed.success) {
      items.push(parsed.data);
      continue;
    }
    const label = describeItem(index, batch[index], key);
    for (const issue of parsed.error.issues) {
      const field = issue.path.map((part) => String(part)).join('.');
      issues.push({ path: `[${index}]${field ? `.${field}` : ''}`, message: `${issue.message} (${label})` });
      if (issues.length >= 50) break;
    }
    if (issues.length >= 50) break;
  }
  if (issues.length > 0) throw new ValidationError(what, issues);
  return items;
}

/**
 * Validates a whole entity batch and fills in defaults. Throws one `ValidationError` listing
 * every bad item (path `[index].field`, message naming the item's id); nothing is returned for a
 * batch with any bad item, so a store that calls this first writes all or nothing.
 */
export function parseEntityBatch(batch: unknown, now: number): EntityWrite[] {
  const items = validateBatch('graph entities', batch, entityInputSchema, quickEntity, 'id');
  return items.map((item) => {
    const properties = (item.properties ?? {}) as PropertiesInput;
    if (item.kind === 'Incident' && Array.isArray(properties[SIGNATURE_PROPERTY])) {
      properties[SIGNATURE_PROPERTY] = normalizeSignature(properties[SIGNATURE_PROPERTY].map(String));
    }
    const write: EntityWrite = {
      id: item.id,
      kind: item.kind,
      properties,
      source: item.source,
      confidence: item.confidence ?? 1,
      observedAt: item.observedAt ?? now,
    };
    if (item.name !== undefined) write.name = item.name;
    return write;
  });
}

/** Validates a whole relationship batch; same all-or-nothing contract as `parseEntityBatch`. */
export function parseRelationshipBatch(batch: unknown, now: number): RelationshipWrite[] {
  const items = validateBatch(
    'graph relationships',
    batch,
    relationshipInputSchema,
    quickRelationship,
    'from',
  );
  return items.map((item) => ({
    kind: item.kind,
    from: item.from,
    to: item.to,
    properties: (item.properties ?? {}) as PropertiesInput,
    source: item.source,
    confidence: item.confidence ?? 1,
    observedAt: item.observedAt ?? now,
  }));
}

/** Validates a whole event batch; same all-or-nothing contract as `parseEntityBatch`. */
export function parseEventBatch(batch: unknown): EventWrite[] {
  const items = validateBatch('graph events', batch, eventInputSchema, quickEvent, 'id');
  return items.map((item) => {
    const properties: Properties = {};
    for (const [key, value] of Object.entries(item.properties ?? {})) {
      if (value !== null) properties[key] = value as PropertyValue;
    }
    const write: EventWrite = {
      id: item.id,
      kind: item.kind,
      entityId: item.entityId,
      at: item.at,
      properties,
      source: item.source,
      confidence: item.confidence ?? 1,
    };
    if (item.summary !== undefined) write.summary = item.summary;
    return write;
  });
}
