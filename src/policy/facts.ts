import { z } from 'zod';
import { toIssues, type Issue } from '../shared/errors.js';

const count = z.number().int().nonnegative();

/** The action asked for: its catalog kind (`k8s.rollback`) and its parameters as the catalog defines them. */
export const actionFactsSchema = z
  .object({
    kind: z.string().min(1),
    params: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();

/**
 * What the action would touch. `replicas` is the current replica count (for bounding scale-ups);
 * `tier` and `stateful` are left out when unknown, and the engine then assumes the worse case.
 */
export const targetFactsSchema = z
  .object({
    kind: z.string().min(1),
    name: z.string().min(1),
    namespace: z.string().min(1).optional(),
    cluster: z.string().min(1).optional(),
    environment: z.string().min(1),
    tier: z.enum(['critical', 'standard']).optional(),
    stateful: z.boolean().optional(),
    owner: z.string().min(1).optional(),
    labels: z.record(z.string(), z.string()).default({}),
    replicas: count.optional(),
  })
  .strict();

export const incidentFactsSchema = z
  .object({
    id: z.string().min(1).optional(),
    severity: z.string().min(1),
    ageMs: count,
  })
  .strict();

export const hypothesisFactsSchema = z
  .object({
    category: z.string().min(1),
    confidence: z.number().min(0).max(1),
  })
  .strict();

/** The record of this failure pattern and its fix: earned autonomy is written against it. */
export const patternFactsSchema = z.object({ seen: count, successes: count, failures: count }).strict();

/** Services that depend on the target, and how many of them are critical. */
export const blastRadiusFactsSchema = z.object({ services: count, critical: count }).strict();

/** Wall-clock facts: `weekday` 0 = Sunday … 6 = Saturday, in the estate's time zone. */
export const nowFactsSchema = z
  .object({
    hour: z.number().int().min(0).max(23),
    weekday: z.number().int().min(0).max(6),
    maintenance: z.boolean().default(false),
    freeze: z.boolean().default(false),
  })
  .strict();

/** This agent's executed actions in the last hour: on this target, in this cluster, and how many failed. */
export const recentFactsSchema = z
  .object({
    perTarget: count,
    perCluster: count,
    failures: count.default(0),
  })
  .strict();

/**
 * Everything a policy can look at for one proposed action. `action`, `target` and `now` are
 * always present; the rest are absent when not known (a condition that reads an absent fact
 * fails, and a failed condition never grants more autonomy: see `evaluate`).
 */
export const factsSchema = z
  .object({
    action: actionFactsSchema,
    target: targetFactsSchema,
    now: nowFactsSchema,
    incident: incidentFactsSchema.optional(),
    hypothesis: hypothesisFactsSchema.optional(),
    pattern: patternFactsSchema.optional(),
    blastRadius: blastRadiusFactsSchema.optional(),
    recent: recentFactsSchema.optional(),
  })
  .strict();

/** Validated facts, as `evaluate` takes them. */
export type Facts = z.output<typeof factsSchema>;
/** Facts as written by a caller or a test file, before defaults are applied. */
export type FactsInput = z.input<typeof factsSchema>;
export type ActionFacts = Facts['action'];
export type TargetFacts = Facts['target'];

/** The names CEL conditions may start from. */
export const FACT_NAMES = Object.keys(factsSchema.shape) as Array<keyof Facts>;

/** Validates facts from outside (an API call, a test file); never throws. */
export function parseFacts(value: unknown): { ok: true; facts: Facts } | { ok: false; issues: Issue[] } {
  const result = factsSchema.safeParse(value);
  return result.success
    ? { ok: true, facts: result.data }
    : { ok: false, issues: toIssues(result.error.issues) };
}

/**
 * The `now` facts for an instant: hour and weekday in `timeZone` (default UTC), with the
 * maintenance and freeze flags the caller knows from its calendar.
 */
export function clockFacts(
  epochMs: number,
  options: { timeZone?: string; maintenance?: boolean; freeze?: boolean } = {},
): Facts['now'] {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: options.timeZone ?? 'UTC',
    hour: 'numeric',
    hourCycle: 'h23',
    weekday: 'short',
  }).formatToParts(new Date(epochMs));
  const hour = Number(parts.find((part) => part.type === 'hour')?.value ?? '0');
  const weekdayName = parts.find((part) => part.type === 'weekday')?.value ?? 'Sun';
  const weekday = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(weekdayName);
  return {
    hour,
    weekday: Math.max(0, weekday),
    maintenance: options.maintenance ?? false,
    freeze: options.freeze ?? false,
  };
}

/**
 * The shape of the facts for checking CEL field references when a policy loads: `fields` for
 * a fixed object, `open` for maps whose keys are data (`params`, `labels`), `value` for a leaf.
 */
export type FactShape =
  { kind: 'fields'; fields: ReadonlyMap<string, FactShape> } | { kind: 'open' } | { kind: 'value' };

function shapeOf(schema: z.ZodType): FactShape {
  if (schema instanceof z.ZodOptional || schema instanceof z.ZodDefault)
    return shapeOf(schema.unwrap() as z.ZodType);
  if (schema instanceof z.ZodObject) {
    const fields = new Map<string, FactShape>();
    const shape: Record<string, z.ZodType> = schema.shape;
    for (const [key, value] of Object.entries(shape)) fields.set(key, shapeOf(value));
    return { kind: 'fields', fields };
  }
  if (schema instanceof z.ZodRecord) return { kind: 'open' };
  return { kind: 'value' };
}

/** The shape of `Facts`, derived from its schema so the two never drift apart. */
export const FACT_SHAPE = shapeOf(factsSchema) as { kind: 'fields'; fields: ReadonlyMap<string, FactShape> };

/** Fields that are CEL doubles even when they hold a whole number; every other whole number is a CEL int. */
const DOUBLE_FIELDS = new Set(['hypothesis.confidence']);

function toCel(value: unknown, path: string): unknown {
  if (typeof value === 'number') {
    return Number.isSafeInteger(value) && !DOUBLE_FIELDS.has(path) ? BigInt(value) : value;
  }
  if (Array.isArray(value)) return value.map((item) => toCel(item, path));
  if (value !== null && typeof value === 'object') {
    const result: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      if (item !== undefined) result[key] = toCel(item, path === '' ? key : `${path}.${key}`);
    }
    return result;
  }
  return value;
}

/**
 * The CEL variable bindings for facts: whole numbers become CEL ints (bigint) so `2 * target.replicas`
 * works, `hypothesis.confidence` stays a double, and absent facts stay unbound.
 */
export function celBindings(facts: Facts): Record<string, unknown> {
  return toCel(facts, '') as Record<string, unknown>;
}
