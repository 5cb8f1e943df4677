import type { ValidationError } from '../shared/errors.js';
import { itemError, type EntityKind, type EntityWrite, type RelationshipWrite } from './schema.js';

/**
 * Checks of a valid batch against what the graph already holds, shared by both stores so they
 * reject the same batches with the same error (the first offending item, in batch order).
 */

/** The first item that would change the kind of an id (as stored, or as written earlier in the batch). */
export function findKindConflict(
  writes: readonly EntityWrite[],
  kindOf: (id: string) => EntityKind | undefined,
): ValidationError | undefined {
  const kinds = new Map<string, EntityKind>();
  for (let index = 0; index < writes.length; index++) {
    const write = writes[index] as EntityWrite;
    const existing = kinds.get(write.id) ?? kindOf(write.id);
    if (existing !== undefined && existing !== write.kind) {
      return itemError(
        'graph entities',
        index,
        'kind',
        `entity "${write.id}" is a ${existing}; an id keeps its kind (got ${write.kind})`,
      );
    }
    kinds.set(write.id, write.kind);
  }
  return undefined;
}

/** The first relationship with an end that does not exist. */
export function findMissingEnd(
  writes: readonly RelationshipWrite[],
  exists: (id: string) => boolean,
): ValidationError | undefined {
  for (let index = 0; index < writes.length; index++) {
    const write = writes[index] as RelationshipWrite;
    for (const field of ['from', 'to'] as const) {
      if (!exists(write[field])) {
        return itemError(
          'graph relationships',
          index,
          field,
          `no entity "${write[field]}" (${write.from} -[${write.kind}]-> ${write.to}); write the entity first`,
        );
      }
    }
  }
  return undefined;
}
