import type { EntityInput, EventInput, RelationshipInput } from '../../graph/schema.js';
import type { GraphStore } from '../../graph/store.js';
import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/logger.js';
import { rawDigest } from '../parse.js';
import { redact } from '../redact/redact.js';
import { signalSchema, type RawPointer, type Signal } from '../signal.js';

/** A value that survives `JSON.stringify` → `JSON.parse` unchanged. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * Graph writes a poll wants applied, in this order: entities, then relationships (whose ends must
 * exist by then), then events. Every write is idempotent, so applying a batch twice is safe.
 */
export interface GraphWrites {
  entities: EntityInput[];
  relationships: RelationshipInput[];
  events: EventInput[];
}

/** What one poll produced. `nextState` replaces the state only once signals and writes are stored. */
export interface PollResult<State> {
  signals: Signal[];
  graphWrites?: GraphWrites;
  nextState: State;
}

/** What every poller may read. Pollers read the graph but never write it: they return writes. */
export interface PollContext {
  graph: GraphStore;
  clock: Clock;
  logger: Logger;
  /** Aborts when the daemon stops; long polls give up early. */
  signal?: AbortSignal;
}

/**
 * One poller: a name, its initial state and `poll`. `poll` may read its sources and the graph and
 * must not write anything; the runner applies `graphWrites`, queues `signals`, and only then saves
 * `nextState`, so a poll that fails half-way is simply run again from the old state. The state is
 * plain JSON (it is stored between runs and survives restarts). Signal ids are deterministic, so
 * a poll repeated from the same state queues nothing new.
 */
export interface Poller<State extends JsonValue = JsonValue> {
  readonly name: string;
  initialState(): State;
  /** Turns a stored state back into a `State`; a state it cannot read gives `initialState()`. */
  readState(stored: unknown): State;
  poll(state: State, context: PollContext): Promise<PollResult<State>>;
}

/** An empty set of graph writes. */
export function emptyWrites(): GraphWrites {
  return { entities: [], relationships: [], events: [] };
}

/** Appends `more` to `into`; returns `into`. */
export function mergeWrites(into: GraphWrites, more: GraphWrites | undefined): GraphWrites {
  if (!more) return into;
  into.entities.push(...more.entities);
  into.relationships.push(...more.relationships);
  into.events.push(...more.events);
  return into;
}

/** Applies writes in order (entities, relationships, events), in batches the store accepts. */
export async function applyGraphWrites(
  graph: GraphStore,
  writes: GraphWrites,
  batchSize = 1000,
): Promise<void> {
  for (let start = 0; start < writes.entities.length; start += batchSize)
    await graph.upsertEntities(writes.entities.slice(start, start + batchSize));
  for (let start = 0; start < writes.relationships.length; start += batchSize)
    await graph.upsertRelationships(writes.relationships.slice(start, start + batchSize));
  for (let start = 0; start < writes.events.length; start += batchSize)
    await graph.recordEvents(writes.events.slice(start, start + batchSize));
}

/** The raw pointer of a polled signal: the channel and the digest of the data it was made from. */
export function polledRaw(channel: string, data: unknown): RawPointer {
  return { source: `poll/${channel}`, digest: rawDigest(JSON.stringify(data) ?? 'null') };
}

/**
 * Redacts and validates signals built by a poller, as the webhooks do: what a source returns
 * (commit messages, log lines, metric tags) may hold secrets. A signal that fails its schema is
 * a bug in the poller, so this throws.
 */
export function finishSignals(signals: readonly Signal[]): Signal[] {
  return signals.map((signal) => signalSchema.parse(redact(signal).value));
}
