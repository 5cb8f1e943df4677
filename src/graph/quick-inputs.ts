import {
  checkProperties,
  ENTITY_KINDS,
  entityInputSchema,
  EVENT_KINDS,
  eventInputSchema,
  hasControlCharacter,
  MAX_ID_LENGTH,
  MAX_NAME_LENGTH,
  MAX_SOURCE_LENGTH,
  MAX_SUMMARY_LENGTH,
  RELATIONSHIP_KINDS,
  relationshipInputSchema,
  type EntityInput,
  type EventInput,
  type RelationshipInput,
} from './schema.js';

/**
 * Hand-written checks for the graph's input shapes, for the common case of a valid item: zod,
 * which every store ran on every item, was about a tenth of the loop's CPU. Each `quick*` returns
 * what the item's zod schema (`entityInputSchema`, …) would return for it, or undefined when it
 * cannot tell that the item is valid; the caller then runs the schema, which accepts or names
 * the problem. So they may leave to the schema an item it accepts, but never accept one it
 * refuses: every rule here is the schema's own or stricter (plain objects only), and a test
 * compares the two on valid and broken items of every shape.
 */

const ENTITY_KIND_SET: ReadonlySet<string> = new Set(ENTITY_KINDS);
const RELATIONSHIP_KIND_SET: ReadonlySet<string> = new Set(RELATIONSHIP_KINDS);
const EVENT_KIND_SET: ReadonlySet<string> = new Set(EVENT_KINDS);

// The fields each schema knows (a strict schema refuses any other).
const ENTITY_FIELDS: ReadonlySet<string> = new Set(Object.keys(entityInputSchema.shape));
const RELATIONSHIP_FIELDS: ReadonlySet<string> = new Set(Object.keys(relationshipInputSchema.shape));
const EVENT_FIELDS: ReadonlySet<string> = new Set(Object.keys(eventInputSchema.shape));

type Fields = Record<string, unknown>;

/** A plain object (an object literal or `Object.create(null)`) without symbol keys. */
function isPlain(value: unknown): value is Fields {
  if (typeof value !== 'object' || value === null) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return false;
  return Object.getOwnPropertySymbols(value).length === 0;
}

/** A plain object whose every key is in `fields`. */
function plainWith(value: unknown, fields: ReadonlySet<string>): value is Fields {
  if (!isPlain(value)) return false;
  for (const key of Object.keys(value)) if (!fields.has(key)) return false;
  return true;
}

function isId(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length >= 1 &&
    value.length <= MAX_ID_LENGTH &&
    !hasControlCharacter(value)
  );
}

function isSource(value: unknown): value is string {
  return typeof value === 'string' && value.length >= 1 && value.length <= MAX_SOURCE_LENGTH;
}

function isConfidence(value: unknown): value is number | undefined {
  return value === undefined || (typeof value === 'number' && value >= 0 && value <= 1);
}

function isTimestamp(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isText(value: unknown, most: number): value is string | undefined {
  return value === undefined || (typeof value === 'string' && value.length <= most);
}

/** A copy of a valid property map (as the schema's record returns), or false. */
function properties(value: unknown): Record<string, unknown> | undefined | false {
  if (value === undefined) return undefined;
  if (!isPlain(value)) return false;
  let valid = true;
  checkProperties(value, () => {
    valid = false;
  });
  return valid ? { ...value } : false;
}

/** Optional fields that are present, as the schema's output has them. */
function present(fields: Record<string, unknown>): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) result[key] = value;
  return result;
}

/** What `entityInputSchema` returns for `item`, or undefined when the schema must decide. */
export function quickEntity(item: unknown): EntityInput | undefined {
  if (!plainWith(item, ENTITY_FIELDS)) return undefined;
  const { id, kind, name, source, confidence, observedAt } = item;
  if (!isId(id) || typeof kind !== 'string' || !ENTITY_KIND_SET.has(kind) || !isSource(source))
    return undefined;
  if (!isText(name, MAX_NAME_LENGTH) || !isConfidence(confidence)) return undefined;
  if (observedAt !== undefined && !isTimestamp(observedAt)) return undefined;
  const copied = properties(item.properties);
  if (copied === false) return undefined;
  return {
    id,
    kind: kind as EntityInput['kind'],
    source,
    ...present({ name, properties: copied, confidence, observedAt }),
  };
}

/** What `relationshipInputSchema` returns for `item`, or undefined when the schema must decide. */
export function quickRelationship(item: unknown): RelationshipInput | undefined {
  if (!plainWith(item, RELATIONSHIP_FIELDS)) return undefined;
  const { kind, from, to, source, confidence, observedAt } = item;
  if (typeof kind !== 'string' || !RELATIONSHIP_KIND_SET.has(kind)) return undefined;
  if (!isId(from) || !isId(to) || !isSource(source) || !isConfidence(confidence)) return undefined;
  if (observedAt !== undefined && !isTimestamp(observedAt)) return undefined;
  const copied = properties(item.properties);
  if (copied === false) return undefined;
  return {
    kind: kind as RelationshipInput['kind'],
    from,
    to,
    source,
    ...present({ properties: copied, confidence, observedAt }),
  };
}

/** What `eventInputSchema` returns for `item`, or undefined when the schema must decide. */
export function quickEvent(item: unknown): EventInput | undefined {
  if (!plainWith(item, EVENT_FIELDS)) return undefined;
  const { id, kind, entityId, at, summary, source, confidence } = item;
  if (!isId(id) || typeof kind !== 'string' || !EVENT_KIND_SET.has(kind) || !isId(entityId)) return undefined;
  if (
    !isTimestamp(at) ||
    !isText(summary, MAX_SUMMARY_LENGTH) ||
    !isSource(source) ||
    !isConfidence(confidence)
  )
    return undefined;
  const copied = properties(item.properties);
  if (copied === false) return undefined;
  return {
    id,
    kind: kind as EventInput['kind'],
    entityId,
    at,
    source,
    ...present({ summary, properties: copied, confidence }),
  };
}
