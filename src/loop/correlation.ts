import type { Redis } from 'ioredis';
import type { EntityKind, RelationshipKind } from '../graph/schema.js';
import type { GraphStore } from '../graph/store.js';
import type { Signal } from '../ingest/signal.js';
import { stableId } from '../shared/ids.js';
import { fingerprintDigest } from './incident-store.js';

/** Settings of correlation; every field has a default. */
export interface CorrelationOptions {
  /** A signal joins an incident by graph proximity only if the incident had a signal this recently. Default 30 minutes. */
  windowMs?: number;
  /** How many hops apart two signals' entities may be to count as one incident. Default 2. */
  hops?: number;
  /** Relationship kinds proximity walks. Default the topology: DEPENDS_ON, CALLS, SELECTS, MANAGES, PART_OF, RUNS_ON. */
  relationshipKinds?: readonly RelationshipKind[];
  /**
   * Entity kinds a proximity path may not pass through (everything in a namespace is two hops
   * apart through it). Default Namespace, Cluster, Node, Team.
   */
  hubKinds?: readonly EntityKind[];
}

/** Where a signal belongs. */
export type Placement =
  | { kind: 'join'; incidentKey: string; because: 'fingerprint' | 'proximity'; via?: string }
  | { kind: 'open'; incidentKey: string }
  /** A resolution (or other clearing signal) for nothing open: nothing to do. */
  | { kind: 'none' };

/**
 * The correlation index: which open incident each fingerprint and each entity belongs to, and
 * when each incident last had a signal. It lives in Redis (`<prefix>:loop:corr:*`) so every
 * replica sees the same; callers serialise `place` + `register` under one lock so two signals
 * of one failure never open two incidents.
 */
export class Correlator {
  readonly #connection: Redis;
  readonly #graph: GraphStore;
  readonly #key: string;
  readonly #windowMs: number;
  readonly #hops: number;
  readonly #kinds: readonly RelationshipKind[];
  readonly #hubs: ReadonlySet<string>;

  constructor(options: { connection: Redis; prefix: string; graph: GraphStore } & CorrelationOptions) {
    this.#connection = options.connection;
    this.#graph = options.graph;
    this.#key = `${options.prefix}:loop:corr`;
    this.#windowMs = options.windowMs ?? 30 * 60_000;
    this.#hops = options.hops ?? 2;
    this.#kinds = options.relationshipKinds ?? [
      'DEPENDS_ON',
      'CALLS',
      'SELECTS',
      'MANAGES',
      'PART_OF',
      'RUNS_ON',
    ];
    this.#hubs = new Set(options.hubKinds ?? ['Namespace', 'Cluster', 'Node', 'Team']);
  }

  /**
   * Decides where `signal` goes: the open incident with its fingerprint; else, for a firing
   * signal, the open incident most recently active within the window whose entities are within
   * `hops` of the signal's; else a new incident keyed by the signal id (so a replay opens the
   * same one). A resolved alert never opens an incident.
   */
  async place(signal: Signal, entityIds: readonly string[], now: number): Promise<Placement> {
    const byFingerprint = await this.#connection.hget(
      `${this.#key}:fp`,
      fingerprintDigest(signal.fingerprint),
    );
    if (byFingerprint) return { kind: 'join', incidentKey: byFingerprint, because: 'fingerprint' };
    if (signal.status === 'resolved') return { kind: 'none' };
    const near = new Set(entityIds);
    for (const entityId of entityIds) {
      const reached = await this.#graph.neighbors(entityId, {
        depth: this.#hops,
        kinds: this.#kinds,
        limit: 500,
      });
      const hubs = new Set(
        reached.filter((one) => this.#hubs.has(one.entity.kind)).map((one) => one.entity.id),
      );
      for (const one of reached) {
        const through = one.path.slice(0, -1).some((step) => hubs.has(step.to) || hubs.has(step.from));
        if (!through) near.add(one.entity.id);
      }
    }
    const ids = [...near];
    if (ids.length > 0) {
      const owners = await this.#connection.hmget(`${this.#key}:entity`, ...ids);
      const candidates = new Map<string, string>();
      owners.forEach((owner, index) => {
        if (owner && !candidates.has(owner)) candidates.set(owner, ids[index] ?? '');
      });
      let best: { key: string; last: number; via: string } | undefined;
      for (const [key, via] of candidates) {
        const last = Number(await this.#connection.zscore(`${this.#key}:last`, key));
        if (Number.isFinite(last) && now - last <= this.#windowMs && (!best || last > best.last))
          best = { key, last, via };
      }
      if (best) return { kind: 'join', incidentKey: best.key, because: 'proximity', via: best.via };
    }
    // An info signal (a heartbeat such as Alertmanager's Watchdog, a finding of no consequence)
    // adds to an incident but never starts one.
    if (signal.severity === 'info') return { kind: 'none' };
    return { kind: 'open', incidentKey: incidentKeyFor(signal) };
  }

  /** Records that the signal's fingerprint and entities belong to the incident, active at `now`. */
  async register(
    incidentKey: string,
    signal: Signal,
    entityIds: readonly string[],
    now: number,
  ): Promise<void> {
    const multi = this.#connection
      .multi()
      .hset(`${this.#key}:fp`, fingerprintDigest(signal.fingerprint), incidentKey);
    if (entityIds.length > 0)
      multi.hset(
        `${this.#key}:entity`,
        Object.fromEntries(entityIds.map((entityId) => [entityId, incidentKey])),
      );
    multi.zadd(`${this.#key}:last`, 'GT', now, incidentKey);
    await multi.exec();
  }

  /** Forgets a closed incident: new signals of its fingerprints and entities open a new one. */
  async forget(
    incidentKey: string,
    fingerprintDigests: readonly string[],
    entityIds: readonly string[],
  ): Promise<void> {
    const owned = async (hash: string, fields: readonly string[]): Promise<string[]> => {
      if (fields.length === 0) return [];
      const owners = await this.#connection.hmget(hash, ...fields);
      return fields.filter((_, index) => owners[index] === incidentKey);
    };
    const [fps, entities] = await Promise.all([
      owned(`${this.#key}:fp`, fingerprintDigests),
      owned(`${this.#key}:entity`, entityIds),
    ]);
    const multi = this.#connection.multi().zrem(`${this.#key}:last`, incidentKey);
    if (fps.length > 0) multi.hdel(`${this.#key}:fp`, ...fps);
    if (entities.length > 0) multi.hdel(`${this.#key}:entity`, ...entities);
    await multi.exec();
  }
}

/** The key of the incident a signal opens: deterministic, so a replayed detect job opens the same one. */
export function incidentKeyFor(signal: Pick<Signal, 'id'>): string {
  return stableId('inc', signal.id);
}
