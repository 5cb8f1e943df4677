import { z } from 'zod';
import { trendCrossing } from '../detect/anomaly/index.js';
import type { Entity } from '../graph/schema.js';
import type { GraphStore } from '../graph/store.js';
import { SEVERITIES, type Severity, type Signal } from '../ingest/signal.js';
import type { TrendInput } from './pipeline-types.js';

/** Settings of severity assessment; every field has a default. */
export interface SeverityOptions {
  /** How far downstream blast radius is followed. Default 3. */
  blastRadiusDepth?: number;
  /** A trend crossing its threshold within this long raises the severity. Default 2 hours. */
  earlyWarningHorizonMs?: number;
}

/** The assessed severity and, when it is above the signal's own, why. */
export interface SeverityAssessment {
  severity: Severity;
  /** One line per reason the severity was raised; empty when it is the signal's own. */
  reasons: string[];
  /** True when a low-severity signal (warning, info) was raised: an early warning. */
  earlyWarning: boolean;
}

const trendAttribute = z.object({
  points: z.array(z.tuple([z.number(), z.number()])).min(2),
  threshold: z.number(),
  direction: z.enum(['up', 'down']).optional(),
});

function atLeast(current: Severity, floor: Severity): Severity {
  return SEVERITIES.indexOf(floor) < SEVERITIES.indexOf(current) ? floor : current;
}

function isCritical(entity: Entity): boolean {
  return entity.properties.tier === 'critical';
}

function label(entity: Entity): string {
  return entity.name ?? entity.id;
}

/** The series behind a signal from `signal.attributes.trend`, if it carries one. */
export function trendFromAttributes(signal: Signal): TrendInput | undefined {
  const parsed = trendAttribute.safeParse(signal.attributes.trend);
  return parsed.success ? parsed.data : undefined;
}

/** What an entity reaches: itself, when it is in the graph, and its downstream blast radius. */
export type Reach = (entityId: string) => Promise<readonly Entity[]>;

/**
 * Reach read from the graph, once per entity for the life of the returned function: the signals
 * of one alert group mostly touch the same entities, so detect, assessing the signals that join
 * an incident together, reads each blast radius once rather than once per signal.
 */
export function graphReach(graph: GraphStore, options: SeverityOptions = {}): Reach {
  const depth = options.blastRadiusDepth ?? 3;
  const read = new Map<string, Promise<readonly Entity[]>>();
  return (entityId) => {
    let reached = read.get(entityId);
    if (!reached) {
      reached = (async () => {
        const [self, radius] = await Promise.all([
          graph.get(entityId),
          graph.blastRadius(entityId, { direction: 'downstream', maxDepth: depth, limit: 500 }),
        ]);
        return [...(self ? [self] : []), ...radius.map((one) => one.entity)];
      })();
      read.set(entityId, reached);
    }
    return reached;
  };
}

/**
 * Severity from the signal, its SLO impact and its blast radius (`reach`):
 * - the signal's own severity is the floor;
 * - an SLO among the touched or reached entities (or an `slo` label): at least `error`;
 * - a `tier: critical` entity touched or within `blastRadiusDepth` hops downstream: at least
 *   `error`, and `critical` when an SLO is impacted too;
 * - a trend that crosses its threshold within `earlyWarningHorizonMs`: at least `error`.
 */
export async function assessSeverity(
  reach: Reach,
  signal: Signal,
  entityIds: readonly string[],
  trend: TrendInput | undefined,
  options: SeverityOptions = {},
): Promise<SeverityAssessment> {
  const horizon = options.earlyWarningHorizonMs ?? 2 * 3_600_000;
  const critical = new Map<string, string>();
  let slo: string | undefined;
  const labels = signal.attributes.labels;
  if (labels && typeof labels === 'object' && !Array.isArray(labels) && typeof labels.slo === 'string')
    slo = labels.slo;
  for (const entityId of entityIds) {
    for (const entity of await reach(entityId)) {
      if (isCritical(entity)) critical.set(entity.id, label(entity));
      if (entity.kind === 'SLO') slo ??= label(entity);
    }
  }
  let severity: Severity = signal.severity;
  const reasons: string[] = [];
  const raise = (floor: Severity, reason: string): void => {
    const next = atLeast(severity, floor);
    if (next !== severity) {
      severity = next;
      reasons.push(reason);
    }
  };
  if (slo !== undefined) raise('error', `SLO ${slo} is impacted`);
  if (critical.size > 0) {
    const names = [...critical.values()].sort().slice(0, 5).join(', ');
    raise(
      slo !== undefined ? 'critical' : 'error',
      `blast radius reaches critical-tier ${names}${slo !== undefined ? ` and SLO ${slo} is impacted` : ''}`,
    );
  }
  if (trend) {
    const crossing = trendCrossing(
      trend.points.map(([at, value]) => [at, value] as [number, number]),
      trend.threshold,
      horizon,
      { direction: trend.direction ?? 'up' },
    );
    if (crossing.crossesAt !== undefined) {
      const inMs = Math.max(0, Math.round(crossing.crossesAt - crossing.from));
      raise('error', `trend reaches its threshold ${trend.threshold} in ${Math.round(inMs / 60_000)} min`);
    }
  }
  const earlyWarning = reasons.length > 0 && (signal.severity === 'warning' || signal.severity === 'info');
  return { severity, reasons, earlyWarning };
}
