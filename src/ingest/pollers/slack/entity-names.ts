import type { EntityKind } from '../../../graph/schema.js';
import type { GraphStore } from '../../../graph/store.js';

/** An entity people may name in chat. */
export interface NamedEntity {
  id: string;
  kind: EntityKind;
  name: string;
}

/** The kinds whose names are looked for in messages. */
export const MENTIONABLE_KINDS: readonly EntityKind[] = [
  'Service',
  'Datastore',
  'Queue',
  'ExternalDependency',
];

/** Name parts too common in plain English (or in every name) to stand for one entity. */
const GENERIC_PARTS = new Set([
  'api',
  'app',
  'apps',
  'backend',
  'cache',
  'data',
  'database',
  'db',
  'export',
  'frontend',
  'gateway',
  'import',
  'internal',
  'main',
  'prod',
  'production',
  'public',
  'queue',
  'server',
  'service',
  'staging',
  'test',
  'web',
  'worker',
  'workers',
]);

/** Reads the names of mentionable entities from the graph. */
export async function mentionableEntities(graph: GraphStore, limit = 5000): Promise<NamedEntity[]> {
  const found: NamedEntity[] = [];
  for (const kind of MENTIONABLE_KINDS) {
    for (const entity of await graph.find({ kind, limit })) {
      if (entity.name) found.push({ id: entity.id, kind: entity.kind, name: entity.name });
    }
  }
  return found;
}

/**
 * Lower-case aliases → the entity they name: each full name (also with `-`/`_` read as spaces), and
 * each part of a compound name (`redis`, `session` of `redis-session`) of four letters or more
 * that no other entity uses and that is not a generic word. Names of two characters or fewer are
 * ignored (too many false hits).
 */
export function aliasIndex(entities: readonly NamedEntity[]): Map<string, NamedEntity> {
  const full = new Map<string, NamedEntity>();
  for (const entity of entities) {
    const name = entity.name.toLowerCase();
    if (name.length <= 2) continue;
    full.set(name, entity);
    const spaced = name.replace(/[-_]+/g, ' ');
    if (spaced !== name) full.set(spaced, entity);
  }
  const parts = new Map<string, NamedEntity | null>();
  for (const entity of entities) {
    const pieces = entity.name.toLowerCase().split(/[-_.]+/);
    if (pieces.length < 2) continue;
    for (const piece of new Set(pieces)) {
      if (piece.length < 4 || GENERIC_PARTS.has(piece) || /^\d+$/.test(piece) || full.has(piece)) continue;
      const seen = parts.get(piece);
      parts.set(piece, seen === undefined || seen?.id === entity.id ? entity : null);
    }
  }
  const index = new Map(full);
  for (const [piece, entity] of parts) if (entity) index.set(piece, entity);
  return index;
}

/** One place an entity is named in a text. */
export interface Mention {
  entity: NamedEntity;
  start: number;
  end: number;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A matcher for every alias, longest first, as whole words (`-` and `_` count as word characters). */
export function mentionMatcher(index: Map<string, NamedEntity>): (text: string) => Mention[] {
  const aliases = [...index.keys()].sort((a, b) => b.length - a.length || a.localeCompare(b));
  if (aliases.length === 0) return () => [];
  const pattern = new RegExp(`(?<![\\w-])(?:${aliases.map(escape).join('|')})(?![\\w-])`, 'gi');
  return (text) => {
    const mentions: Mention[] = [];
    for (const match of text.matchAll(pattern)) {
      const entity = index.get(match[0].toLowerCase());
      if (entity) mentions.push({ entity, start: match.index, end: match.index + match[0].length });
    }
    return mentions;
  };
}
