import { ValidationError, type Issue } from '../shared/errors.js';
import { findKindConflict, findMissingEnd } from './checks.js';
import {
  type EntityInput,
  type EntityKind,
  type EntityWrite,
  type EventInput,
  type EventWrite,
  type RelationshipInput,
  type RelationshipWrite,
} from './schema.js';
import { parseEntityBatch, parseEventBatch, parseRelationshipBatch } from './parse-batch.js';

/**
 * Entities, relationships and events written together by `GraphStore.write`: applied in that
 * order, whole or not at all, so a relationship may end at an entity of the same write.
 */
export interface GraphWrite {
  entities?: readonly EntityInput[];
  relationships?: readonly RelationshipInput[];
  events?: readonly EventInput[];
}

/** A validated `GraphWrite`, defaults filled in. */
export interface ParsedGraphWrite {
  entities: EntityWrite[];
  relationships: RelationshipWrite[];
  events: EventWrite[];
}

const WHAT = 'graph write';

/** The issues of a part's error, their paths under the part (`entities[1].id`). */
function under(part: string, error: unknown): Issue[] {
  if (!(error instanceof ValidationError)) throw error;
  return error.issues.map((issue) => ({ ...issue, path: `${part}${issue.path}` }));
}

/**
 * Validates every part of a write (each with the limits of its own batch) and fills in defaults.
 * Throws one `ValidationError` naming each bad item under its part (`relationships[0].kind`);
 * nothing is returned for a write with any bad item.
 */
export function parseGraphWrite(write: GraphWrite, now: number): ParsedGraphWrite {
  const issues: Issue[] = [];
  const parse = <T>(part: string, run: () => T[]): T[] => {
    try {
      return run();
    } catch (error) {
      issues.push(...under(part, error));
      return [];
    }
  };
  const parsed = {
    entities: parse('entities', () => parseEntityBatch(write.entities ?? [], now)),
    relationships: parse('relationships', () => parseRelationshipBatch(write.relationships ?? [], now)),
    events: parse('events', () => parseEventBatch(write.events ?? [])),
  };
  if (issues.length > 0) throw new ValidationError(WHAT, issues);
  return parsed;
}

/** How many items a parsed write holds. */
export function graphWriteSize(write: ParsedGraphWrite): number {
  return write.entities.length + write.relationships.length + write.events.length;
}

/**
 * The first problem of a valid write against what the graph holds: an entity changing the kind
 * of an id, else a relationship with an end that is neither stored nor among the write's
 * entities. The same checks, in the same order, as separate entity and relationship batches.
 */
export function findWriteProblem(
  write: ParsedGraphWrite,
  kindOf: (id: string) => EntityKind | undefined,
): ValidationError | undefined {
  const conflict = findKindConflict(write.entities, kindOf);
  if (conflict) return new ValidationError(WHAT, under('entities', conflict));
  const written = new Set(write.entities.map((entity) => entity.id));
  const missing = findMissingEnd(write.relationships, (id) => written.has(id) || kindOf(id) !== undefined);
  return missing ? new ValidationError(WHAT, under('relationships', missing)) : undefined;
}
