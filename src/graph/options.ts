import { parseDuration } from '../shared/clock.js';
import { ValidationError, type Issue } from '../shared/errors.js';
import {
  CHANGE_EVENT_KINDS,
  ENTITY_KINDS,
  EVENT_KINDS,
  RELATIONSHIP_KINDS,
  RESERVED_PROPERTY_NAMES,
  type EntityKind,
  type EventKind,
  type GraphEvent,
  type RelationshipKind,
} from './schema.js';
import type {
  BlastRadiusOptions,
  EdgeDirection,
  EventQuery,
  ExplainPathOptions,
  FindQuery,
  ImpactDirection,
  NeighborOptions,
  RecentChange,
  RecentChangesOptions,
} from './store.js';
import { pathTo, type Visit } from './traversal.js';

/**
 * Argument checking and defaults for the read methods, shared by both stores so they accept and
 * refuse exactly the same things.
 */

const PROPERTY_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
const entityKinds: ReadonlySet<string> = new Set(ENTITY_KINDS);
const relationshipKinds: ReadonlySet<string> = new Set(RELATIONSHIP_KINDS);
const eventKinds: ReadonlySet<string> = new Set(EVENT_KINDS);

class Checker {
  readonly issues: Issue[] = [];
  constructor(readonly what: string) {}

  integer(path: string, value: number | undefined, fallback: number, min: number, max: number): number {
    if (value === undefined) return fallback;
    if (!Number.isInteger(value) || value < min || value > max) {
      this.issues.push({ path, message: `must be a whole number from ${min} to ${max}` });
      return fallback;
    }
    return value;
  }

  time(path: string, value: number | undefined): number | undefined {
    if (value !== undefined && !Number.isFinite(value)) {
      this.issues.push({ path, message: 'must be milliseconds since the epoch' });
      return undefined;
    }
    return value;
  }

  member<T extends string>(path: string, value: unknown, allowed: ReadonlySet<string>, fallback: T): T {
    if (value === undefined) return fallback;
    if (typeof value !== 'string' || !allowed.has(value)) {
      this.issues.push({ path, message: `must be one of ${[...allowed].join(', ')}` });
      return fallback;
    }
    return value as T;
  }

  list<T extends string>(
    path: string,
    values: readonly unknown[] | undefined,
    allowed: ReadonlySet<string>,
  ): T[] {
    if (values === undefined) return [];
    if (!Array.isArray(values)) {
      this.issues.push({ path, message: 'must be a list' });
      return [];
    }
    const result: T[] = [];
    values.forEach((value, index) => {
      if (typeof value === 'string' && allowed.has(value)) result.push(value as T);
      else this.issues.push({ path: `${path}.${index}`, message: `unknown: ${String(value)}` });
    });
    return result;
  }

  id(path: string, value: unknown): string {
    if (typeof value !== 'string' || value.length === 0) {
      this.issues.push({ path, message: 'must be a non-empty string' });
      return '';
    }
    return value;
  }

  done(): void {
    if (this.issues.length > 0) throw new ValidationError(this.what, this.issues);
  }
}

export interface ResolvedNeighbors {
  id: string;
  kinds: RelationshipKind[];
  direction: EdgeDirection;
  depth: number;
  entityKinds: Set<EntityKind> | undefined;
  stopAt: Set<EntityKind> | undefined;
  limit: number;
}

export function resolveNeighbors(id: string, options: NeighborOptions = {}): ResolvedNeighbors {
  const check = new Checker('neighbors');
  const resolved: ResolvedNeighbors = {
    id: check.id('id', id),
    kinds: check.list('kinds', options.kinds, relationshipKinds),
    direction: check.member('direction', options.direction, new Set(['out', 'in', 'both']), 'both'),
    depth: check.integer('depth', options.depth, 1, 1, 6),
    entityKinds: options.entityKinds
      ? new Set(check.list<EntityKind>('entityKinds', options.entityKinds, entityKinds))
      : undefined,
    stopAt: options.stopAt
      ? new Set(check.list<EntityKind>('stopAt', options.stopAt, entityKinds))
      : undefined,
    limit: check.integer('limit', options.limit, 1000, 1, 100_000),
  };
  check.done();
  return resolved;
}

export interface ResolvedBlastRadius {
  id: string;
  direction: ImpactDirection;
  maxDepth: number;
  limit: number;
}

export function resolveBlastRadius(id: string, options: BlastRadiusOptions = {}): ResolvedBlastRadius {
  const check = new Checker('blastRadius');
  const resolved: ResolvedBlastRadius = {
    id: check.id('id', id),
    direction: check.member(
      'direction',
      options.direction,
      new Set(['upstream', 'downstream', 'both']),
      'downstream',
    ),
    maxDepth: check.integer('maxDepth', options.maxDepth, 3, 1, 6),
    limit: check.integer('limit', options.limit, 1000, 1, 100_000),
  };
  check.done();
  return resolved;
}

export interface ResolvedRecentChanges {
  ids: string[];
  since: number;
  until: number;
  maxDepth: number;
  kinds: EventKind[];
  limit: number;
}

export function resolveRecentChanges(
  ids: readonly string[],
  options: RecentChangesOptions,
  now: number,
): ResolvedRecentChanges {
  const check = new Checker('recentChanges');
  if (!Array.isArray(ids)) check.issues.push({ path: 'ids', message: 'must be a list of entity ids' });
  const list = Array.isArray(ids) ? ids.map((id, index) => check.id(`ids.${index}`, id)) : [];
  let window = 0;
  try {
    window = parseDuration(options?.window);
    if (!(window >= 0)) throw new Error('negative');
  } catch {
    check.issues.push({ path: 'window', message: 'must be a duration such as 30m, or milliseconds' });
  }
  const until = check.time('now', options?.now) ?? now;
  const kinds = options?.kinds
    ? check.list<EventKind>('kinds', options.kinds, eventKinds)
    : [...CHANGE_EVENT_KINDS];
  const resolved: ResolvedRecentChanges = {
    ids: [...new Set(list)],
    since: until - window,
    until,
    maxDepth: check.integer('maxDepth', options?.maxDepth, 2, 0, 6),
    kinds,
    limit: check.integer('limit', options?.limit, 50, 1, 10_000),
  };
  check.done();
  return resolved;
}

export interface ResolvedEventQuery {
  since: number;
  until: number;
  kinds: EventKind[] | undefined;
  limit: number;
}

export function resolveEventQuery(id: string, query: EventQuery = {}): ResolvedEventQuery {
  const check = new Checker('events');
  check.id('id', id);
  const resolved: ResolvedEventQuery = {
    since: check.time('since', query.since) ?? Number.NEGATIVE_INFINITY,
    until: check.time('until', query.until) ?? Number.POSITIVE_INFINITY,
    kinds: query.kinds ? check.list<EventKind>('kinds', query.kinds, eventKinds) : undefined,
    limit: check.integer('limit', query.limit, 100, 1, 100_000),
  };
  check.done();
  return resolved;
}

export interface ResolvedFind {
  kind: EntityKind;
  where: Array<[string, string | number | boolean]>;
  limit: number;
}

export function resolveFind(query: FindQuery): ResolvedFind {
  const check = new Checker('find');
  const kind = check.member<EntityKind>('kind', query?.kind, entityKinds, 'Cluster');
  if (query?.kind === undefined) check.issues.push({ path: 'kind', message: 'is required' });
  const where: Array<[string, string | number | boolean]> = [];
  for (const [key, value] of Object.entries(query?.where ?? {})) {
    if (!PROPERTY_NAME.test(key) || (key !== 'name' && RESERVED_PROPERTY_NAMES.has(key))) {
      check.issues.push({ path: `where.${key}`, message: 'is not a property name' });
    } else if (!['string', 'number', 'boolean'].includes(typeof value)) {
      check.issues.push({ path: `where.${key}`, message: 'must be a string, number or boolean' });
    } else where.push([key, value]);
  }
  const resolved: ResolvedFind = {
    kind,
    where,
    limit: check.integer('limit', query?.limit, 100, 1, 100_000),
  };
  check.done();
  return resolved;
}

export interface ResolvedExplainPath {
  a: string;
  b: string;
  kinds: RelationshipKind[];
  maxDepth: number;
}

export function resolveExplainPath(
  a: string,
  b: string,
  options: ExplainPathOptions = {},
): ResolvedExplainPath {
  const check = new Checker('explainPath');
  const resolved: ResolvedExplainPath = {
    a: check.id('a', a),
    b: check.id('b', b),
    kinds: check.list('kinds', options.kinds, relationshipKinds),
    maxDepth: check.integer('maxDepth', options.maxDepth, 6, 1, 8),
  };
  check.done();
  return resolved;
}

export function resolveExpire(kind: EntityKind, olderThan: number): void {
  const check = new Checker('expire');
  check.member('kind', kind, entityKinds, 'Pod');
  if (kind === undefined) check.issues.push({ path: 'kind', message: 'is required' });
  if (typeof olderThan !== 'number' || !Number.isFinite(olderThan)) {
    check.issues.push({ path: 'olderThan', message: 'must be milliseconds since the epoch' });
  }
  check.done();
}

export function resolveSimilar(signature: readonly string[], k: number): void {
  const check = new Checker('similarIncidents');
  if (!Array.isArray(signature) || signature.some((token) => typeof token !== 'string')) {
    check.issues.push({ path: 'signature', message: 'must be a list of strings' });
  }
  check.integer('k', k, 5, 1, 1000);
  check.done();
}

/** Orders changes: graph distance, then newest first, then event id; keeps `limit`. */
export function rankChanges(
  visits: ReadonlyMap<string, Visit>,
  events: readonly GraphEvent[],
  limit: number,
): RecentChange[] {
  const changes: Array<{ event: GraphEvent; distance: number }> = [];
  for (const event of events) {
    const visit = visits.get(event.entityId);
    if (visit) changes.push({ event, distance: visit.distance });
  }
  changes.sort(
    (x, y) =>
      x.distance - y.distance ||
      y.event.at - x.event.at ||
      (x.event.id < y.event.id ? -1 : x.event.id > y.event.id ? 1 : 0),
  );
  return changes
    .slice(0, limit)
    .map((change) => ({ ...change, path: pathTo(visits, change.event.entityId) }));
}
