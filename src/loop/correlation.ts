import type { Redis } from 'ioredis';
import type { EntityKind, RelationshipKind } from '../graph/schema.js';
import type { GraphStore } from '../graph/store.js';
import type { Signal } from '../ingest/signal.js';
import { stableId } from '../shared/ids.js';
import { luaScript } from '../shared/lua-script.js';
import { fingerprintDigest } from './incident-store.js';
import type { Incident } from './pipeline-types.js';

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
  /** A signal that would open an incident and asked to be held first: nothing was recorded. */
  | { kind: 'hold' }
  /** A resolution (or other clearing signal) for nothing open: nothing to do. */
  | { kind: 'none' };

/** A signal to place: the entities it touches, and whether it waits first rather than open an incident. */
export interface ToPlace {
  signal: Signal;
  entityIds: readonly string[];
  /** When it would open an incident, hold it instead (a possible transient): nothing is recorded. */
  holdIfNew?: boolean;
}

/**
 * Places signals in order and records each placement, atomically, so every replica sees the same
 * and two signals of one failure never open two incidents. KEYS: the fingerprint hash, the entity
 * hash, the last-activity sorted set. ARGV: the window, then per signal its fingerprint digest,
 * status, info flag, hold flag, the key a new incident gets, the time, the count of entities near
 * it, the count of its own entities, then those two lists. Returns per signal
 * `{kind, incidentKey, because, via}` (empty strings where they do not apply).
 */
const PLACE = luaScript(`
local fpKey, entityKey, lastKey = KEYS[1], KEYS[2], KEYS[3]
local window = tonumber(ARGV[1])
local at = 2
local placed = {}
while at <= #ARGV do
  local digest, status, info, hold, fresh = ARGV[at], ARGV[at + 1], ARGV[at + 2], ARGV[at + 3], ARGV[at + 4]
  local now = tonumber(ARGV[at + 5])
  local nearCount, ownCount = tonumber(ARGV[at + 6]), tonumber(ARGV[at + 7])
  local nearFrom = at + 8
  local ownFrom = nearFrom + nearCount
  at = ownFrom + ownCount
  local kind, key, because, via = 'none', '', '', ''
  local owner = redis.call('HGET', fpKey, digest)
  if owner then
    kind, key, because = 'join', owner, 'fingerprint'
  elseif status ~= 'resolved' then
    local best, bestLast = nil, nil
    local seen = {}
    for i = nearFrom, ownFrom - 1 do
      local candidate = redis.call('HGET', entityKey, ARGV[i])
      if candidate and not seen[candidate] then
        seen[candidate] = true
        local last = tonumber(redis.call('ZSCORE', lastKey, candidate))
        if last and now - last <= window and (best == nil or last > bestLast) then
          best, bestLast, via = candidate, last, ARGV[i]
        end
      end
    end
    if best then
      kind, key, because = 'join', best, 'proximity'
    elseif info == '1' then
      kind = 'none'
    elseif hold == '1' then
      kind = 'hold'
    else
      kind, key = 'open', fresh
    end
  end
  if kind == 'join' or kind == 'open' then
    redis.call('HSET', fpKey, digest, key)
    for i = ownFrom, at - 1 do redis.call('HSET', entityKey, ARGV[i], key) end
    redis.call('ZADD', lastKey, 'GT', now, key)
  end
  placed[#placed + 1] = { kind, key, because, via }
end
return placed
`);

/**
 * Removes an incident from the index, atomically: only the entries that still name it, so an
 * entry a placement has meanwhile pointed at another incident stays. KEYS: the fingerprint hash,
 * the entity hash, the last-activity sorted set. ARGV: the incident key, the count of fingerprint
 * digests, the digests, then the entity ids.
 */
const FORGET = luaScript(`
local key, fpCount = ARGV[1], tonumber(ARGV[2])
for i = 3, #ARGV do
  local hash = i < 3 + fpCount and KEYS[1] or KEYS[2]
  if redis.call('HGET', hash, ARGV[i]) == key then redis.call('HDEL', hash, ARGV[i]) end
end
redis.call('ZREM', KEYS[3], key)
return 1
`);

/**
 * Removes index entries whose incident has left the index (it was forgotten), atomically per
 * entry: only if the entry still names that incident and the incident is still not in the
 * last-activity set. KEYS: one hash, the last-activity sorted set. ARGV: field, incident key, ….
 * Returns how many were removed.
 */
const SWEEP = luaScript(`
local removed = 0
for i = 1, #ARGV, 2 do
  local field, key = ARGV[i], ARGV[i + 1]
  if redis.call('HGET', KEYS[1], field) == key and not redis.call('ZSCORE', KEYS[2], key) then
    redis.call('HDEL', KEYS[1], field)
    removed = removed + 1
  end
end
return removed
`);

/** Entries read per HSCAN step of a sweep. */
const SWEEP_BATCH = 1_000;

/**
 * The correlation index: which open incident each fingerprint and each entity belongs to, and
 * when each incident last had a signal. It lives in Redis (`<prefix>:loop:corr:*`) so every
 * replica sees the same; placements are decided and recorded in one script, atomically.
 */
export class Correlator {
  readonly #connection: Redis;
  readonly #graph: GraphStore;
  readonly #key: string;
  readonly #windowMs: number;
  readonly #hops: number;
  readonly #kinds: readonly RelationshipKind[];
  readonly #hubs: ReadonlySet<EntityKind>;

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
   * Decides where each signal goes, in order, each seeing the placements before it, and records
   * them: the open incident with its fingerprint; else, for a firing signal, the open incident
   * most recently active within the window whose entities are within `hops` of the signal's
   * (not through a hub); else a new incident keyed by the signal id (so a replay opens the same
   * one), or `hold` when asked. A resolved alert never opens an incident, nor does an info signal
   * (a heartbeat such as Alertmanager's Watchdog, a finding of no consequence): those add to an
   * incident but never start one.
   */
  async placeAll(signals: readonly ToPlace[]): Promise<Placement[]> {
    if (signals.length === 0) return [];
    const args: string[] = [String(this.#windowMs)];
    // The signals of one delivery mostly touch the same entities: walk from each only once.
    const reachedFrom = new Map<string, readonly string[]>();
    for (const { signal, entityIds, holdIfNew } of signals) {
      const near = await this.#near(entityIds, reachedFrom);
      args.push(
        fingerprintDigest(signal.fingerprint),
        signal.status ?? 'firing',
        signal.severity === 'info' ? '1' : '0',
        holdIfNew ? '1' : '0',
        incidentKeyFor(signal),
        String(signal.observedAt),
        String(near.length),
        String(entityIds.length),
        ...near,
        ...entityIds,
      );
    }
    const replies = (await PLACE.run(
      this.#connection,
      [`${this.#key}:fp`, `${this.#key}:entity`, `${this.#key}:last`],
      args,
    )) as Array<[string, string, string, string]>;
    return replies.map(([kind, incidentKey, because, via]): Placement => {
      if (kind === 'join')
        return {
          kind,
          incidentKey,
          because: because === 'fingerprint' ? 'fingerprint' : 'proximity',
          ...(via ? { via } : {}),
        };
      if (kind === 'open') return { kind, incidentKey };
      return kind === 'hold' ? { kind: 'hold' } : { kind: 'none' };
    });
  }

  /**
   * The entities within `hops` of these (they included), not reached through a hub; each walk is
   * kept in `reachedFrom` for the next signal that touches the same entity.
   */
  async #near(entityIds: readonly string[], reachedFrom: Map<string, readonly string[]>): Promise<string[]> {
    const near = new Set(entityIds);
    for (const entityId of entityIds) {
      let reachable = reachedFrom.get(entityId);
      if (!reachable) {
        reachable = await this.#reachable(entityId);
        reachedFrom.set(entityId, reachable);
      }
      for (const id of reachable) near.add(id);
    }
    return [...near];
  }

  /**
   * The entities within `hops` of one along paths that pass through no hub (a hub itself may be
   * reached). The walk stops at hubs rather than filtering paths afterwards: the graph keeps one
   * shortest path per entity, and two pods of one Service on one Node are as near through the
   * Node as through the Service.
   */
  async #reachable(entityId: string): Promise<string[]> {
    const reached = await this.#graph.neighbors(entityId, {
      depth: this.#hops,
      kinds: this.#kinds,
      stopAt: [...this.#hubs],
      limit: 500,
    });
    return reached.map((one) => one.entity.id);
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

  /** Forgets a resolved incident's own entries: its fingerprints and entities. */
  async forgetIncident(incident: Pick<Incident, 'key' | 'signals' | 'entityIds'>): Promise<void> {
    await this.forget(incident.key, [...incident.signals.keys()], incident.entityIds);
  }

  /** Forgets a closed incident: new signals of its fingerprints and entities open a new one. */
  async forget(
    incidentKey: string,
    fingerprintDigests: readonly string[],
    entityIds: readonly string[],
  ): Promise<void> {
    await FORGET.run(
      this.#connection,
      [`${this.#key}:fp`, `${this.#key}:entity`, `${this.#key}:last`],
      [incidentKey, String(fingerprintDigests.length), ...fingerprintDigests, ...entityIds],
    );
  }

  /**
   * Up to `limit` incidents of the index, least recently active first, with no signal within the
   * window before `now`: where one its signals resolved but whose clearing a crash cut short is.
   */
  async idle(now: number, limit: number): Promise<string[]> {
    const before = now - this.#windowMs;
    return this.#connection.zrangebyscore(`${this.#key}:last`, '-inf', `(${before}`, 'LIMIT', 0, limit);
  }

  /**
   * Removes the entries that still name an incident no longer in the index. Forgetting an
   * incident removes the fingerprints and entities it still lists; those it had let go of (a
   * resolved fingerprint making room for a new one, entities beyond its cap) stay behind, and so
   * does everything of an incident whose forget a crash cut short. A later signal would find its
   * way past them, but they would fill Redis over months (`idle` finds incidents resolved but
   * never forgotten, for the caller to forget first). Runs over the whole index in steps of
   * `SWEEP_BATCH`; safe beside placements, which never point an entry at a forgotten incident.
   */
  async sweep(): Promise<{ fingerprints: number; entities: number }> {
    const last = `${this.#key}:last`;
    const sweepHash = async (hash: string): Promise<number> => {
      let removed = 0;
      let cursor = '0';
      do {
        const [next, flat] = await this.#connection.hscan(hash, cursor, 'COUNT', SWEEP_BATCH);
        cursor = next;
        if (flat.length > 0) removed += Number(await SWEEP.run(this.#connection, [hash, last], flat));
      } while (cursor !== '0');
      return removed;
    };
    return {
      fingerprints: await sweepHash(`${this.#key}:fp`),
      entities: await sweepHash(`${this.#key}:entity`),
    };
  }
}

/** The key of the incident a signal opens: deterministic, so a replayed detect job opens the same one. */
export function incidentKeyFor(signal: Pick<Signal, 'id'>): string {
  return stableId('inc', signal.id);
}
