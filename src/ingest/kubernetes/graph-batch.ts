import type { GraphStore } from '../../graph/store.js';
import { ValidationError } from '../../shared/errors.js';
import {
  MAX_BATCH_ITEMS,
  type EntityInput,
  type EventInput,
  type PropertiesInput,
  type RelationshipInput,
  type RelationshipKind,
} from '../../graph/schema.js';

/** How many items one batch wrote. */
export interface WriteCounts {
  entities: number;
  relationships: number;
  events: number;
}

/**
 * Graph writes gathered from one or more objects, merged by id, then written in the order the
 * store needs: entities, then relationships (whose ends must exist), then events.
 */
export class GraphBatch {
  readonly #entities = new Map<string, EntityInput>();
  readonly #relationships = new Map<string, RelationshipInput>();
  readonly #events = new Map<string, EventInput>();

  constructor(
    readonly source: string,
    readonly observedAt: number,
  ) {}

  get size(): number {
    return this.#entities.size + this.#relationships.size + this.#events.size;
  }

  /** Adds an entity; properties merge with an earlier write of the same id in this batch. */
  entity(input: Omit<EntityInput, 'source' | 'observedAt'> & { source?: string }): void {
    const previous = this.#entities.get(input.id);
    const properties: PropertiesInput = { ...(previous?.properties ?? {}), ...(input.properties ?? {}) };
    this.#entities.set(input.id, {
      ...previous,
      ...input,
      ...((input.name ?? previous?.name) ? { name: input.name ?? previous?.name } : {}),
      properties,
      source: input.source ?? previous?.source ?? this.source,
      observedAt: this.observedAt,
    });
  }

  edge(
    from: string,
    kind: RelationshipKind,
    to: string,
    extra: { confidence?: number; source?: string; properties?: PropertiesInput } = {},
  ): void {
    if (from === to) return;
    this.#relationships.set(`${from}\u0000${kind}\u0000${to}`, {
      from,
      kind,
      to,
      source: extra.source ?? this.source,
      ...(extra.confidence !== undefined ? { confidence: extra.confidence } : {}),
      ...(extra.properties ? { properties: extra.properties } : {}),
      observedAt: this.observedAt,
    });
  }

  event(input: Omit<EventInput, 'source'> & { source?: string }): void {
    this.#events.set(input.id, { ...input, source: input.source ?? this.source });
  }

  /** Entity ids in the batch. */
  entityIds(): string[] {
    return [...this.#entities.keys()];
  }

  /**
   * Writes everything: in one `GraphStore.write` (one transaction) when each part fits in a batch.
   * When that is refused, or a part is too big, it writes entities, then relationships, then
   * events, each in chunks the store accepts, so what is valid is stored (entities whose edges
   * name an entity not yet in the graph, say) before the refusal is thrown.
   */
  async write(graph: GraphStore): Promise<WriteCounts> {
    const entities = [...this.#entities.values()];
    const relationships = [...this.#relationships.values()];
    const events = [...this.#events.values()];
    let written = false;
    if (Math.max(entities.length, relationships.length, events.length) <= MAX_BATCH_ITEMS) {
      try {
        await graph.write({ entities, relationships, events });
        written = true;
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error;
      }
    }
    if (!written) {
      for (const chunk of chunks(entities)) await graph.upsertEntities(chunk);
      for (const chunk of chunks(relationships)) await graph.upsertRelationships(chunk);
      for (const chunk of chunks(events)) await graph.recordEvents(chunk);
    }
    return {
      entities: this.#entities.size,
      relationships: this.#relationships.size,
      events: this.#events.size,
    };
  }
}

function* chunks<T>(items: T[]): Generator<T[]> {
  for (let index = 0; index < items.length; index += MAX_BATCH_ITEMS) {
    yield items.slice(index, index + MAX_BATCH_ITEMS);
  }
}
