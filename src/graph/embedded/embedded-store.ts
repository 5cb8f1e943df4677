import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Clock } from '../../shared/clock.js';
import { SystemError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import {
  resolveBlastRadius,
  resolveEventQuery,
  resolveExpire,
  resolveExplainPath,
  resolveFind,
  resolveNeighbors,
  rankChanges,
  resolveRecentChanges,
  resolveSimilar,
} from '../options.js';
import {
  GRAPH_SCHEMA_VERSION,
  normalizeSignature,
  type Entity,
  type EntityInput,
  type EntityKind,
  type EventInput,
  type GraphEvent,
  type RelationshipInput,
} from '../schema.js';
import { parseEntityBatch, parseEventBatch, parseRelationshipBatch } from '../parse-batch.js';
import { findKindConflict, findMissingEnd } from '../checks.js';
import { findWriteProblem, graphWriteSize, parseGraphWrite, type GraphWrite } from '../graph-write.js';
import { rankSimilar } from '../similarity.js';
import type {
  BlastRadiusOptions,
  EventQuery,
  ExplainPathOptions,
  FindQuery,
  GraphStats,
  GraphStore,
  NeighborOptions,
  PathStep,
  Reached,
  RecentChange,
  RecentChangesOptions,
  SimilarIncident,
  WriteResult,
} from '../store.js';
import {
  breadthFirst,
  edgeWalk,
  impactWalk,
  pathTo,
  ranked,
  shortestPath,
  type Hop,
  type Visit,
  type Walk,
} from '../traversal.js';
import { Journal, type FsyncPolicy, type JournalEntry, type JournalRecord } from './journal.js';
import { acquireLock, type HeldLock } from './lock-file.js';
import { MemoryGraph } from './memory-graph.js';
import { readSnapshot, writeSnapshot } from './snapshot.js';

/** Settings of the embedded store. */
export interface EmbeddedGraphStoreOptions {
  /** Where the journal, snapshot and lock live; created if missing. */
  dataDir: string;
  /** Default `interval`: see `Journal`. */
  fsync?: FsyncPolicy;
  /** For `interval`; default 1000. */
  fsyncIntervalMs?: number;
  /** Take a snapshot (and drop the older journal files) once the journal grows past this; default 64 MiB. */
  snapshotBytes?: number;
  logger: Logger;
  clock: Clock;
}

const META_FILE = 'graph.json';
const LOCK_FILE = 'LOCK';
const SNAPSHOT_FILE = 'snapshot.jsonl';
const JOURNAL_FILE = /^journal\.(\d{12})\.jsonl$/;

/** Journal files are named by the sequence number of their first record, so names sort in order. */
function journalName(firstSeq: number): string {
  return `journal.${String(firstSeq).padStart(12, '0')}.jsonl`;
}

/**
 * The default store: the whole graph in memory (graphology), made durable by an append-only
 * journal in `dataDir` (one checksummed record per acknowledged batch, fsync per policy) and a
 * periodic snapshot. One process at a time: `dataDir/LOCK`.
 *
 * Opening loads the snapshot, replays the journal records after it (ignoring a torn last
 * record) and takes the lock; a kill -9 at any moment loses no acknowledged batch. Writes run
 * one at a time in call order: validate, check against the graph, journal, apply; reads are
 * served from memory and never wait for writes.
 *
 * Snapshots do not stop writes: when the journal passes `snapshotBytes`, new records go to a
 * fresh journal file and the graph is written out while writes go on, so the snapshot holds
 * every record up to the switch and some after it. That is safe because replaying records over
 * a state that already holds some of them gives the same state (writes merge by id, last
 * writer wins, first/last seen are min/max); expiry, which is not, waits for a running snapshot.
 * Once the snapshot is in place the older journal files are deleted.
 */
export class EmbeddedGraphStore implements GraphStore {
  readonly backend = 'embedded' as const;
  readonly dataDir: string;
  readonly #graph: MemoryGraph;
  #journal: Journal;
  #journalFiles: string[];
  readonly #fsync: FsyncPolicy;
  readonly #fsyncIntervalMs: number;
  readonly #lock: HeldLock;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #snapshotBytes: number;
  #seq: number;
  #tail: Promise<unknown> = Promise.resolve();
  /** Writes waiting for the next group commit. */
  #pending: PendingWrite[] = [];
  #snapshotQueued = false;
  #snapshotRunning: Promise<void> | undefined;
  #closed: Promise<void> | undefined;
  readonly #expand = (frontier: readonly string[], walk: Walk): Hop[] => this.#graph.expand(frontier, walk);

  private constructor(init: {
    dataDir: string;
    graph: MemoryGraph;
    journal: Journal;
    journalFiles: string[];
    lock: HeldLock;
    seq: number;
    options: EmbeddedGraphStoreOptions;
  }) {
    this.dataDir = init.dataDir;
    this.#graph = init.graph;
    this.#journal = init.journal;
    this.#journalFiles = init.journalFiles;
    this.#fsync = init.options.fsync ?? 'interval';
    this.#fsyncIntervalMs = init.options.fsyncIntervalMs ?? 1_000;
    this.#lock = init.lock;
    this.#seq = init.seq;
    this.#clock = init.options.clock;
    this.#logger = init.options.logger;
    this.#snapshotBytes = init.options.snapshotBytes ?? 64 * 1024 * 1024;
  }

  /** Opens (creating if needed) the store in `options.dataDir`. Rejects with `graph_locked` if another process has it. */
  static async open(options: EmbeddedGraphStoreOptions): Promise<EmbeddedGraphStore> {
    const dataDir = resolve(options.dataDir);
    const logger = options.logger.child({ component: 'graph', backend: 'embedded' });
    await mkdir(dataDir, { recursive: true });
    const lock = await acquireLock(join(dataDir, LOCK_FILE), logger);
    try {
      await checkMeta(dataDir);
      const started = Date.now();
      const graph = new MemoryGraph();
      await rm(join(dataDir, `${SNAPSHOT_FILE}.tmp`), { force: true });
      const snapshotSeq = await readSnapshot(join(dataDir, SNAPSHOT_FILE), graph);
      const journalOptions = {
        fsync: options.fsync ?? 'interval',
        fsyncIntervalMs: options.fsyncIntervalMs ?? 1_000,
        logger,
      };
      const journalFiles = (await readdir(dataDir))
        .filter((name) => JOURNAL_FILE.test(name))
        .sort()
        .map((name) => join(dataDir, name));
      let seq = snapshotSeq;
      let replayed = 0;
      let journal: Journal | undefined;
      for (const [index, path] of journalFiles.entries()) {
        const opened = await Journal.open(path, journalOptions);
        for (const record of opened.records) {
          if (record.seq <= seq) continue;
          applyRecord(graph, record);
          seq = record.seq;
          replayed++;
        }
        if (index === journalFiles.length - 1) journal = opened.journal;
        else await opened.journal.close();
      }
      if (!journal) {
        const path = join(dataDir, journalName(seq + 1));
        journal = (await Journal.open(path, journalOptions)).journal;
        journalFiles.push(path);
      }
      logger.info(
        {
          dataDir,
          entities: graph.entityCount,
          relationships: graph.relationshipCount,
          replayed,
          ms: Date.now() - started,
        },
        'graph store opened',
      );
      return new EmbeddedGraphStore({
        dataDir,
        graph,
        journal,
        journalFiles,
        lock,
        seq,
        options: { ...options, logger },
      });
    } catch (error) {
      await lock.release();
      throw error;
    }
  }

  async upsertEntities(batch: readonly EntityInput[]): Promise<WriteResult> {
    this.#assertOpen();
    const writes = parseEntityBatch(batch, this.#clock.now());
    if (writes.length === 0) return { written: 0 };
    await this.#commit({ op: 'entities', items: writes });
    return { written: writes.length };
  }

  async upsertRelationships(batch: readonly RelationshipInput[]): Promise<WriteResult> {
    this.#assertOpen();
    const writes = parseRelationshipBatch(batch, this.#clock.now());
    if (writes.length === 0) return { written: 0 };
    await this.#commit({ op: 'relationships', items: writes });
    return { written: writes.length };
  }

  async recordEvents(batch: readonly EventInput[]): Promise<WriteResult> {
    this.#assertOpen();
    const writes = parseEventBatch(batch);
    if (writes.length === 0) return { written: 0 };
    await this.#commit({ op: 'events', items: writes });
    return { written: writes.length };
  }

  async write(batch: GraphWrite): Promise<WriteResult> {
    this.#assertOpen();
    const write = parseGraphWrite(batch, this.#clock.now());
    const size = graphWriteSize(write);
    if (size === 0) return { written: 0 };
    await this.#commit({ op: 'write', ...write });
    return { written: size };
  }

  get(id: string): Promise<Entity | null> {
    return this.#now(() => {
      this.#assertOpen();
      const entity = this.#graph.get(id);
      return entity ? copyEntity(entity) : null;
    });
  }

  getMany(ids: readonly string[]): Promise<Entity[]> {
    return this.#now(() => {
      this.#assertOpen();
      const found: Entity[] = [];
      for (const id of new Set(ids)) {
        const entity = this.#graph.get(id);
        if (entity) found.push(copyEntity(entity));
      }
      return found;
    });
  }

  async neighbors(id: string, options?: NeighborOptions): Promise<Reached[]> {
    this.#assertOpen();
    const resolved = resolveNeighbors(id, options);
    if (!this.#graph.get(resolved.id)) return [];
    const filter = resolved.entityKinds;
    const visits = await breadthFirst(
      [resolved.id],
      edgeWalk(resolved.direction, resolved.kinds),
      resolved.depth,
      this.#expand,
      filter ? Number.POSITIVE_INFINITY : resolved.limit,
      resolved.stopAt,
    );
    const keep = filter
      ? (visit: Visit): boolean => visit.kind !== undefined && filter.has(visit.kind)
      : undefined;
    return this.#reached(visits, ranked(visits, resolved.limit, keep));
  }

  async blastRadius(id: string, options?: BlastRadiusOptions): Promise<Reached[]> {
    this.#assertOpen();
    const resolved = resolveBlastRadius(id, options);
    if (!this.#graph.get(resolved.id)) return [];
    const visits = await breadthFirst(
      [resolved.id],
      impactWalk(resolved.direction),
      resolved.maxDepth,
      this.#expand,
      resolved.limit,
    );
    return this.#reached(visits, ranked(visits, resolved.limit));
  }

  async recentChanges(ids: readonly string[], options: RecentChangesOptions): Promise<RecentChange[]> {
    this.#assertOpen();
    const resolved = resolveRecentChanges(ids, options, this.#clock.now());
    const visits = await breadthFirst(resolved.ids, impactWalk('upstream'), resolved.maxDepth, this.#expand);
    const kinds = new Set(resolved.kinds);
    const events: GraphEvent[] = [];
    for (const id of visits.keys()) {
      for (const event of this.#graph.eventsOf(id, resolved.since, resolved.until)) {
        if (kinds.has(event.kind)) events.push(event);
      }
    }
    return rankChanges(visits, events, resolved.limit).map((change) => ({
      ...change,
      event: copyEvent(change.event),
    }));
  }

  similarIncidents(signature: readonly string[], k: number): Promise<SimilarIncident[]> {
    return this.#now(() => {
      this.#assertOpen();
      resolveSimilar(signature, k);
      const tokens = normalizeSignature(signature);
      return rankSimilar(tokens, this.#graph.incidentsSharing(tokens), k).map((match) => ({
        ...match,
        incident: copyEntity(match.incident),
      }));
    });
  }

  async explainPath(a: string, b: string, options?: ExplainPathOptions): Promise<PathStep[] | null> {
    this.#assertOpen();
    const resolved = resolveExplainPath(a, b, options);
    if (!this.#graph.get(resolved.a) || !this.#graph.get(resolved.b)) return null;
    return shortestPath(
      resolved.a,
      resolved.b,
      edgeWalk('both', resolved.kinds),
      resolved.maxDepth,
      this.#expand,
    );
  }

  events(id: string, query?: EventQuery): Promise<GraphEvent[]> {
    return this.#now(() => {
      this.#assertOpen();
      return this.#eventsOf(id, query);
    });
  }

  getWithEvents(id: string, query?: EventQuery): Promise<{ entity: Entity; events: GraphEvent[] } | null> {
    return this.#now(() => {
      this.#assertOpen();
      const entity = this.#graph.get(id);
      return entity ? { entity: copyEntity(entity), events: this.#eventsOf(id, query) } : null;
    });
  }

  #eventsOf(id: string, query: EventQuery | undefined): GraphEvent[] {
    const resolved = resolveEventQuery(id, query);
    const kinds = resolved.kinds ? new Set(resolved.kinds) : undefined;
    const result: GraphEvent[] = [];
    const all = this.#graph.eventsOf(id, resolved.since, resolved.until);
    for (let index = all.length - 1; index >= 0 && result.length < resolved.limit; index--) {
      const event = all[index] as GraphEvent;
      if (!kinds || kinds.has(event.kind)) result.push(copyEvent(event));
    }
    return result;
  }

  find(query: FindQuery): Promise<Entity[]> {
    return this.#now(() => {
      this.#assertOpen();
      const resolved = resolveFind(query);
      const matches: Entity[] = [];
      for (const id of this.#graph.idsOfKind(resolved.kind)) {
        const entity = this.#graph.get(id) as Entity;
        if (
          resolved.where.every(
            ([key, value]) => (key === 'name' ? entity.name : entity.properties[key]) === value,
          )
        ) {
          matches.push(entity);
        }
      }
      matches.sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
      return matches.slice(0, resolved.limit).map(copyEntity);
    });
  }

  async expire(kind: EntityKind, olderThan: number): Promise<number> {
    this.#assertOpen();
    resolveExpire(kind, olderThan);
    return this.#serial(async () => {
      // Replaying an expiry over a snapshot taken while it ran would not give the same state.
      await this.#snapshotRunning?.catch(() => undefined);
      let due = 0;
      for (const id of this.#graph.idsOfKind(kind)) {
        if ((this.#graph.get(id) as Entity).provenance.lastSeen < olderThan) due++;
      }
      if (due === 0) return 0;
      await this.#append({ op: 'expire', kind, olderThan });
      return this.#graph.expire(kind, olderThan).length;
    });
  }

  stats(): Promise<GraphStats> {
    return this.#now(() => {
      this.#assertOpen();
      return {
        backend: 'embedded',
        schemaVersion: GRAPH_SCHEMA_VERSION,
        entities: this.#graph.entityCount,
        relationships: this.#graph.relationshipCount,
        events: this.#graph.eventCount,
        entitiesByKind: Object.fromEntries(this.#graph.entitiesByKind()),
        relationshipsByKind: Object.fromEntries(this.#graph.relationshipsByKind()),
      };
    });
  }

  health(): Promise<'ok' | 'down'> {
    return Promise.resolve(this.#closed || this.#journal.failed ? 'down' : 'ok');
  }

  /** Writes a snapshot now and drops the journal files it makes redundant (normally done when the journal grows). */
  async checkpoint(): Promise<void> {
    this.#assertOpen();
    await this.#serial(() => this.#startSnapshot());
    await this.#snapshotRunning;
  }

  async close(): Promise<void> {
    this.#closed ??= (async () => {
      await this.#tail;
      await this.#snapshotRunning?.catch(() => undefined);
      try {
        if (this.#journal.size > 0) {
          await this.#startSnapshot();
          await this.#snapshotRunning;
        }
      } catch (error) {
        this.#logger.warn(
          { err: error },
          'could not write a graph snapshot on close; the journal still holds everything',
        );
      }
      await this.#journal.close();
      await this.#lock.release();
    })();
    return this.#closed;
  }

  /** Runs a synchronous read as a call of the async contract: errors become rejections. */
  #now<T>(read: () => T): Promise<T> {
    try {
      return Promise.resolve(read());
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  #assertOpen(): void {
    if (this.#closed)
      throw new SystemError('graph_closed', 'the graph store is closed', { retryable: false });
  }

  #serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(task);
    this.#tail = run.catch(() => undefined);
    return run;
  }

  /**
   * Queues a write for the next group commit and resolves once it is in the journal and applied.
   * Writes that arrive while a group is being written wait and go together in the next one, so a
   * burst of small writes costs one journal write, not one each, and none waits for the others
   * one by one. A write is checked in order against the graph and the writes before it in its
   * group, and becomes visible only once its group is written, as before grouping.
   */
  #commit(entry: CommitEntry): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({ entry, resolve, reject });
      if (this.#pending.length === 1) this.#serial(() => this.#flush()).catch(() => undefined);
    });
  }

  /** Writes what is pending as one group (in the write chain, so a snapshot or expiry runs between groups). */
  async #flush(): Promise<void> {
    const group = this.#pending.splice(0);
    if (group.length === 0) return;
    const kinds = new Map<string, EntityKind>();
    const kindOf = (id: string): EntityKind | undefined => kinds.get(id) ?? this.#graph.get(id)?.kind;
    const accepted: PendingWrite[] = [];
    for (const item of group) {
      const { entry } = item;
      const problem =
        entry.op === 'entities'
          ? findKindConflict(entry.items, kindOf)
          : entry.op === 'relationships'
            ? findMissingEnd(entry.items, (id) => kinds.has(id) || this.#graph.get(id) !== undefined)
            : entry.op === 'write'
              ? findWriteProblem(entry, kindOf)
              : undefined;
      if (problem) {
        item.reject(problem);
        continue;
      }
      const entities = entry.op === 'entities' ? entry.items : entry.op === 'write' ? entry.entities : [];
      for (const write of entities) kinds.set(write.id, write.kind);
      accepted.push(item);
    }
    if (accepted.length === 0) return;
    const records: JournalRecord[] = accepted.map(({ entry }, index) => ({
      ...entry,
      seq: this.#seq + index + 1,
    }));
    try {
      await this.#journal.appendMany(records);
    } catch (error) {
      for (const item of accepted) item.reject(error);
      return;
    }
    this.#seq += records.length;
    for (const record of records) applyRecord(this.#graph, record);
    for (const item of accepted) item.resolve();
    this.#snapshotIfDue();
  }

  async #append(entry: JournalEntry): Promise<void> {
    const record: JournalRecord = { ...entry, seq: this.#seq + 1 };
    await this.#journal.append(record);
    this.#seq = record.seq;
    this.#snapshotIfDue();
  }

  #snapshotIfDue(): void {
    if (this.#journal.size >= this.#snapshotBytes && !this.#snapshotQueued && !this.#snapshotRunning) {
      this.#snapshotQueued = true;
      this.#serial(() => this.#startSnapshot()).catch((error: unknown) => {
        this.#logger.error({ err: error }, 'graph snapshot failed; the journal keeps growing');
      });
    }
  }

  /**
   * Runs in the write chain: switches new records to a fresh journal file, then writes the
   * snapshot in the background (writes go on) and deletes the older journal files once it is in
   * place. `#snapshotRunning` is set until then.
   */
  async #startSnapshot(): Promise<void> {
    this.#snapshotQueued = false;
    await this.#snapshotRunning?.catch(() => undefined);
    const seq = this.#seq;
    const older = this.#journalFiles;
    const path = join(this.dataDir, journalName(seq + 1));
    const next = await Journal.open(path, {
      fsync: this.#fsync,
      fsyncIntervalMs: this.#fsyncIntervalMs,
      logger: this.#logger,
    });
    const previous = this.#journal;
    this.#journal = next.journal;
    this.#journalFiles = [path];
    await previous.close();
    const started = Date.now();
    this.#snapshotRunning = (async () => {
      await writeSnapshot(join(this.dataDir, SNAPSHOT_FILE), this.#graph, seq, this.#clock.now());
      for (const file of older) await rm(file, { force: true });
      this.#logger.debug({ seq, ms: Date.now() - started }, 'graph snapshot written');
    })().finally(() => {
      this.#snapshotRunning = undefined;
    });
    this.#snapshotRunning.catch((error: unknown) => {
      this.#journalFiles = [...older, ...this.#journalFiles];
      this.#logger.error({ err: error }, 'graph snapshot failed; keeping the journal files');
    });
  }

  #reached(visits: ReadonlyMap<string, Visit>, entries: Array<[string, Visit]>): Reached[] {
    return entries.map(([id, visit]) => ({
      entity: copyEntity(this.#graph.get(id) as Entity),
      distance: visit.distance,
      path: pathTo(visits, id),
    }));
  }
}

/** A write that goes through the group commit (an expiry is written on its own). */
type CommitEntry = Exclude<JournalEntry, { op: 'expire' }>;

/** A write waiting for its group commit, and how to tell its caller. */
interface PendingWrite {
  entry: CommitEntry;
  resolve: () => void;
  reject: (error: unknown) => void;
}

function applyRecord(graph: MemoryGraph, record: JournalRecord): void {
  switch (record.op) {
    case 'entities':
      graph.applyEntities(record.items);
      break;
    case 'relationships':
      graph.applyRelationships(record.items);
      break;
    case 'events':
      graph.applyEvents(record.items);
      break;
    case 'write':
      graph.applyEntities(record.entities);
      graph.applyRelationships(record.relationships);
      graph.applyEvents(record.events);
      break;
    case 'expire':
      graph.expire(record.kind, record.olderThan);
      break;
  }
}

async function checkMeta(dataDir: string): Promise<void> {
  const path = join(dataDir, META_FILE);
  let text: string | undefined;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (text === undefined) {
    await writeFile(path, `${JSON.stringify({ format: 'nightshift-graph', v: GRAPH_SCHEMA_VERSION })}\n`);
    return;
  }
  const meta = JSON.parse(text) as { format?: string; v?: number };
  if (meta.format !== 'nightshift-graph' || typeof meta.v !== 'number') {
    throw new SystemError(
      'graph_data_dir_foreign',
      `${dataDir} does not hold a nightshift graph (${META_FILE})`,
      {
        retryable: false,
      },
    );
  }
  if (meta.v > GRAPH_SCHEMA_VERSION) {
    throw new SystemError(
      'graph_data_dir_too_new',
      `${dataDir} was written by a newer nightshift (graph schema v${meta.v}; this one reads v${GRAPH_SCHEMA_VERSION})`,
      { retryable: false },
    );
  }
}

function copyProperties<T extends Record<string, unknown>>(properties: T): T {
  const copy = {} as Record<string, unknown>;
  for (const key in properties) {
    const value = properties[key];
    copy[key] = Array.isArray(value) ? value.slice() : value;
  }
  return copy as T;
}

function copyEntity(entity: Entity): Entity {
  return { ...entity, properties: copyProperties(entity.properties), provenance: { ...entity.provenance } };
}

function copyEvent(event: GraphEvent): GraphEvent {
  return { ...event, properties: copyProperties(event.properties) };
}
