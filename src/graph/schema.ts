import { z } from 'zod';
import { ValidationError } from '../shared/errors.js';

/**
 * The graph schema: entity, relationship and event kinds, the shapes written to a `GraphStore`,
 * and the validation every store runs before it writes anything.
 *
 * Version 1. A change that alters how stored data is read (a renamed kind, a new required field)
 * bumps `GRAPH_SCHEMA_VERSION`; the embedded journal and snapshot and the Neo4j migrations record
 * the version they were written with.
 */
export const GRAPH_SCHEMA_VERSION = 1;

/** Every kind of entity the graph holds. Kubernetes workloads share `Workload` (see `workloadKind`). */
export const ENTITY_KINDS = [
  'Cluster',
  'Namespace',
  'Node',
  'Service',
  'Workload',
  'ReplicaSet',
  'Pod',
  'Container',
  'Datastore',
  'Queue',
  'ExternalDependency',
  'ConfigMap',
  'FeatureFlag',
  'Team',
  'Person',
  'Repo',
  'Commit',
  'PullRequest',
  'Deploy',
  'ConfigChange',
  'Alert',
  'Incident',
  'Hypothesis',
  'Action',
  'Runbook',
  'SlackThread',
  'Policy',
  'SLO',
] as const;
export type EntityKind = (typeof ENTITY_KINDS)[number];

/** The Kubernetes kinds an entity of kind `Workload` stands for, in its `workloadKind` property. */
export const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob'] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

/**
 * Every kind of relationship. An edge always reads `from KIND to`:
 *
 * | kind | reads as | example |
 * |---|---|---|
 * | DEPENDS_ON | from needs to | Service → Datastore, Workload → ConfigMap, Service → FeatureFlag |
 * | CALLS | from sends requests to | Service → Service, Service → ExternalDependency |
 * | RUNS_ON | from is scheduled on | Pod → Node |
 * | PART_OF | from is contained in | Container → Pod, Namespace → Cluster, Node → Cluster, Workload → Service |
 * | MANAGES | from controls | Workload → ReplicaSet, ReplicaSet → Pod |
 * | SELECTS | from routes to | Service → Pod |
 * | OWNED_BY | from is owned by | Service → Team, Person → Team |
 * | DEPLOYED | from rolled out to | Deploy → Workload |
 * | INTRODUCED | from brought in | Commit → Deploy, PullRequest → Commit |
 * | CHANGED | from modified | ConfigChange → ConfigMap / FeatureFlag / Workload |
 * | MENTIONS | from talks about | SlackThread → Service / Incident |
 * | AFFECTS | from impairs | Alert → Service, Incident → Service |
 * | TRIGGERED_BY | from was opened because of | Incident → Alert |
 * | EXPLAINED_BY | from is explained by | Incident → Hypothesis |
 * | CAUSED_BY | from was caused by | Incident → Deploy / ConfigChange |
 * | RESOLVED_BY | from was fixed by | Incident → Action |
 * | SIMILAR_TO | from resembles | Incident → Incident |
 * | DOCUMENTED_BY | from is described by | Service → Runbook |
 */
export const RELATIONSHIP_KINDS = [
  'DEPENDS_ON',
  'CALLS',
  'RUNS_ON',
  'PART_OF',
  'MANAGES',
  'SELECTS',
  'OWNED_BY',
  'DEPLOYED',
  'INTRODUCED',
  'CHANGED',
  'MENTIONS',
  'AFFECTS',
  'TRIGGERED_BY',
  'EXPLAINED_BY',
  'CAUSED_BY',
  'RESOLVED_BY',
  'SIMILAR_TO',
  'DOCUMENTED_BY',
] as const;
export type RelationshipKind = (typeof RELATIONSHIP_KINDS)[number];

/**
 * Which end of an edge is hurt when the other end fails or changes; `null` for edges that are
 * records, not dependencies (ownership, mentions, incident bookkeeping). Blast radius and
 * recent changes walk only the edges named here:
 * - `'from'`: a failure of `to` reaches `from` (a service is hurt when what it depends on fails);
 * - `'to'`: a failure or change of `from` reaches `to` (a controller's change reaches what it manages).
 */
export const IMPACTED_END: Readonly<Record<RelationshipKind, 'from' | 'to' | null>> = {
  DEPENDS_ON: 'from',
  CALLS: 'from',
  RUNS_ON: 'from',
  SELECTS: 'from',
  PART_OF: 'to',
  MANAGES: 'to',
  DEPLOYED: 'to',
  INTRODUCED: 'to',
  CHANGED: 'to',
  OWNED_BY: null,
  MENTIONS: null,
  AFFECTS: null,
  TRIGGERED_BY: null,
  EXPLAINED_BY: null,
  CAUSED_BY: null,
  RESOLVED_BY: null,
  SIMILAR_TO: null,
  DOCUMENTED_BY: null,
};

/** Kinds of time-stamped events. The first six are changes (see `CHANGE_EVENT_KINDS`). */
export const EVENT_KINDS = [
  'deploy',
  'rollback',
  'config-change',
  'flag-flip',
  'scale',
  'node-event',
  'restart',
  'k8s-event',
  'alert-fired',
  'alert-resolved',
  'action-taken',
  'note',
] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

/** The event kinds `recentChanges` returns by default: things someone or something changed. */
export const CHANGE_EVENT_KINDS: readonly EventKind[] = [
  'deploy',
  'rollback',
  'config-change',
  'flag-flip',
  'scale',
  'node-event',
];

/** At most this many items in one batch. */
export const MAX_BATCH_ITEMS = 10_000;
/** At most this many UTF-8 bytes in one property value (for a list: its JSON form). */
export const MAX_PROPERTY_BYTES = 16 * 1024;
/** At most this many bytes for all properties of one item, as JSON. */
export const MAX_PROPERTIES_BYTES = 64 * 1024;
/** At most this many properties on one item. */
export const MAX_PROPERTIES = 64;
/** At most this many characters in an id. */
export const MAX_ID_LENGTH = 1024;
/** At most this many characters in a `source`. */
export const MAX_SOURCE_LENGTH = 128;
/** At most this many characters in an entity's name. */
export const MAX_NAME_LENGTH = 512;
/** At most this many characters in an event's summary. */
export const MAX_SUMMARY_LENGTH = 2048;

/**
 * Field names the stores use themselves; a property may not take one. (Neo4j keeps properties
 * on the node next to these fields.)
 */
export const RESERVED_PROPERTY_NAMES: ReadonlySet<string> = new Set([
  'id',
  'ns',
  'kind',
  'name',
  'source',
  'confidence',
  'firstSeen',
  'lastSeen',
  'at',
  'entityId',
  'subject',
  'summary',
]);

/** A stored property value: a scalar or a list of one scalar type (Neo4j stores only those). */
export type PropertyValue = string | number | boolean | string[] | number[] | boolean[];
/** Properties as stored: never null. */
export type Properties = Record<string, PropertyValue>;
/** Properties as written: `null` removes the property. */
export type PropertiesInput = Record<string, PropertyValue | null>;

/** Where a node or edge came from and how sure we are of it. Times are ms since the epoch. */
export interface Provenance {
  /** What reported it last, e.g. `kubernetes`, `datadog`, `github`, `inferred:traces`. */
  source: string;
  /** 1 for observed facts; below 1 for inferred ones. Last writer wins. */
  confidence: number;
  /** The earliest `observedAt` of any write. */
  firstSeen: number;
  /** The latest `observedAt` of any write. */
  lastSeen: number;
}

/** An entity as stored and read back. */
export interface Entity {
  id: string;
  kind: EntityKind;
  name?: string;
  properties: Properties;
  provenance: Provenance;
}

/** A relationship as stored; one edge per (from, kind, to). */
export interface Relationship {
  kind: RelationshipKind;
  from: string;
  to: string;
  properties: Properties;
  provenance: Provenance;
}

/** A time-stamped event on one entity (`entityId`); `id` is its idempotency key. */
export interface GraphEvent {
  id: string;
  kind: EventKind;
  entityId: string;
  /** When it happened, ms since the epoch. */
  at: number;
  summary?: string;
  properties: Properties;
  source: string;
  confidence: number;
}

const PROPERTY_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

/** True when `text` holds a C0 control character or DEL. */
export function hasControlCharacter(text: string): boolean {
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

const idSchema = z
  .string({ error: 'is required (a non-empty string)' })
  .min(1, 'must not be empty')
  .max(MAX_ID_LENGTH, `must be at most ${MAX_ID_LENGTH} characters`)
  .refine((value) => !hasControlCharacter(value), 'must not contain control characters');

const timestampSchema = z
  .number()
  .int('must be whole milliseconds since the epoch')
  .nonnegative('must be milliseconds since the epoch');

const sourceSchema = z.string({ error: 'is required (what reported this)' }).min(1).max(MAX_SOURCE_LENGTH);
const confidenceSchema = z.number().min(0, 'must be between 0 and 1').max(1, 'must be between 0 and 1');

function utf8Bytes(text: string): number {
  // Cheap upper bound first: every UTF-16 unit is at most 3 UTF-8 bytes.
  return text.length * 3 <= MAX_PROPERTY_BYTES ? text.length : Buffer.byteLength(text, 'utf8');
}

/** The most bytes one UTF-16 unit of a string takes in JSON (an escape such as `\u0001`). */
const JSON_BYTES_PER_UNIT = 6;
/** The most characters a finite number takes in JSON (`-1.7976931348623157e+308`). */
const JSON_NUMBER_CHARS = 24;

/** The most bytes a list of scalars takes as JSON, counted without building the JSON. */
function listJsonBound(list: readonly unknown[]): number {
  let bound = 2;
  for (const item of list) {
    bound += 1 + (typeof item === 'string' ? item.length * JSON_BYTES_PER_UNIT + 2 : JSON_NUMBER_CHARS);
  }
  return bound;
}

/** A value's problem, or an upper bound of its size as JSON in bytes. */
function checkValue(value: unknown): { problem: string } | { bound: number } {
  if (value === null) return { bound: 4 };
  switch (typeof value) {
    case 'string':
      return utf8Bytes(value) > MAX_PROPERTY_BYTES
        ? { problem: `is ${Buffer.byteLength(value, 'utf8')} bytes; the limit is ${MAX_PROPERTY_BYTES}` }
        : { bound: value.length * JSON_BYTES_PER_UNIT + 2 };
    case 'number':
      return Number.isFinite(value) ? { bound: JSON_NUMBER_CHARS } : { problem: 'must be a finite number' };
    case 'boolean':
      return { bound: 5 };
    case 'object': {
      if (!Array.isArray(value))
        return { problem: 'must be a string, number, boolean, null or a list of one of those' };
      let first: string | undefined;
      for (const item of value as unknown[]) {
        const type = typeof item;
        if (type !== 'string' && type !== 'number' && type !== 'boolean') {
          return { problem: 'a list may hold only strings, numbers or booleans' };
        }
        if (type === 'number' && !Number.isFinite(item))
          return { problem: 'a list may hold only finite numbers' };
        first ??= type;
        if (type !== first) return { problem: 'a list must hold values of one type' };
      }
      const bound = listJsonBound(value as unknown[]);
      if (bound <= MAX_PROPERTY_BYTES) return { bound };
      // Only a long list is written out to be measured exactly.
      const bytes = Buffer.byteLength(JSON.stringify(value), 'utf8');
      return bytes > MAX_PROPERTY_BYTES
        ? { problem: `is ${bytes} bytes; the limit is ${MAX_PROPERTY_BYTES}` }
        : { bound: bytes };
    }
    default:
      return { problem: 'must be a string, number, boolean, null or a list of one of those' };
  }
}

/** A problem with a property map: on one property (`key`) or on the whole map. */
export interface PropertyProblem {
  key?: string;
  message: string;
}

/**
 * The problems of a property map against the limits (count, names, reserved names, values, total
 * size), passed to `report` in order; stops after the count when that is over. The one
 * definition of what a valid property map is, for the schemas and for `quick-inputs.ts`.
 */
export function checkProperties(
  properties: Record<string, unknown>,
  report: (problem: PropertyProblem) => void,
): void {
  const keys = Object.keys(properties);
  if (keys.length > MAX_PROPERTIES) {
    report({ message: `has ${keys.length} properties; the limit is ${MAX_PROPERTIES}` });
    return;
  }
  // An upper bound of the map's size as JSON: only a map that may be over the limit is written
  // out to be measured exactly.
  let total = 2;
  for (const key of keys) {
    if (!PROPERTY_NAME.test(key)) {
      report({ key, message: 'a property name is a letter then letters, digits or _ (at most 64)' });
    } else if (RESERVED_PROPERTY_NAMES.has(key)) {
      report({ key, message: 'is a reserved field name' });
    }
    const checked = checkValue(properties[key]);
    if ('problem' in checked) report({ key, message: checked.problem });
    else total += key.length + 4 + checked.bound;
  }
  if (total > MAX_PROPERTIES_BYTES) {
    const bytes = Buffer.byteLength(JSON.stringify(properties), 'utf8');
    if (bytes > MAX_PROPERTIES_BYTES) {
      report({ message: `all properties together are ${bytes} bytes; the limit is ${MAX_PROPERTIES_BYTES}` });
    }
  }
}

const propertiesSchema = z
  .record(z.string(), z.unknown())
  .superRefine((properties, context) =>
    checkProperties(properties, ({ key, message }) =>
      context.addIssue({ code: 'custom', message, ...(key === undefined ? {} : { path: [key] }) }),
    ),
  );

/** An entity as a caller writes it. `observedAt` defaults to the store's clock. */
export const entityInputSchema = z.strictObject({
  id: idSchema,
  kind: z.enum(ENTITY_KINDS, { error: `must be one of ${ENTITY_KINDS.join(', ')}` }),
  name: z.string().max(MAX_NAME_LENGTH).optional(),
  properties: propertiesSchema.optional(),
  source: sourceSchema,
  confidence: confidenceSchema.optional(),
  observedAt: timestampSchema.optional(),
});
export type EntityInput = z.input<typeof entityInputSchema> & { properties?: PropertiesInput };

/** A relationship as a caller writes it; both ends must exist when it is written. */
export const relationshipInputSchema = z.strictObject({
  kind: z.enum(RELATIONSHIP_KINDS, { error: `must be one of ${RELATIONSHIP_KINDS.join(', ')}` }),
  from: idSchema,
  to: idSchema,
  properties: propertiesSchema.optional(),
  source: sourceSchema,
  confidence: confidenceSchema.optional(),
  observedAt: timestampSchema.optional(),
});
export type RelationshipInput = z.input<typeof relationshipInputSchema> & { properties?: PropertiesInput };

/** An event as a caller writes it; `entityId` need not exist yet. */
export const eventInputSchema = z.strictObject({
  id: idSchema,
  kind: z.enum(EVENT_KINDS, { error: `must be one of ${EVENT_KINDS.join(', ')}` }),
  entityId: idSchema,
  at: timestampSchema,
  summary: z.string().max(MAX_SUMMARY_LENGTH).optional(),
  properties: propertiesSchema.optional(),
  source: sourceSchema,
  confidence: confidenceSchema.optional(),
});
export type EventInput = z.input<typeof eventInputSchema> & { properties?: Properties };

/** A validated entity write with defaults filled in: what stores journal and send. */
export interface EntityWrite {
  id: string;
  kind: EntityKind;
  name?: string;
  properties: PropertiesInput;
  source: string;
  confidence: number;
  observedAt: number;
}

/** A validated relationship write with defaults filled in. */
export interface RelationshipWrite {
  kind: RelationshipKind;
  from: string;
  to: string;
  properties: PropertiesInput;
  source: string;
  confidence: number;
  observedAt: number;
}

/** A validated event write with defaults filled in; null properties are dropped. */
export type EventWrite = GraphEvent;

/** Incidents keep their signature here: a list of tokens, stored lower-cased, sorted and unique. */
export const SIGNATURE_PROPERTY = 'signature';

/** Lower-cases, trims, drops empty tokens, de-duplicates and sorts a signature. */
export function normalizeSignature(tokens: readonly string[]): string[] {
  const set = new Set<string>();
  for (const token of tokens) {
    const clean = token.trim().toLowerCase();
    if (clean) set.add(clean);
  }
  return [...set].sort();
}

/** The id of an edge: one edge per (from, kind, to). */
export function relationshipKey(from: string, kind: RelationshipKind, to: string): string {
  return `${from}\u0000${kind}\u0000${to}`;
}

/** A store-side problem with one item of a valid batch (unknown endpoint, kind change). */
export function itemError(what: string, index: number, field: string, message: string): ValidationError {
  return new ValidationError(what, [{ path: `[${index}].${field}`, message }]);
}
