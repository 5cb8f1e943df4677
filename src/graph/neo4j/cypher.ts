import { ENTITY_KINDS, RELATIONSHIP_KINDS, type EntityKind, type RelationshipKind } from '../schema.js';
import type { Walk } from '../traversal.js';

/**
 * Every Cypher statement the Neo4j store runs. All values travel as parameters. Labels and
 * relationship types cannot be parameters, so the few statements that need one are built here
 * from the schema's own enum constants, looked up by value: text from input never reaches a
 * query. Statements are cached, so each distinct text is planned by Neo4j once.
 *
 * Data layout: every entity is a node `(:Entity:<Kind> {ns, id, kind, name, source, confidence,
 * firstSeen, lastSeen, …properties})`, unique on (ns, id); every relationship is a typed edge
 * with the same provenance fields; every event is a node `(:Event {ns, id, kind, subject, at,
 * summary, source, confidence, …properties})`, unique on (ns, id). `ns` is the store's
 * namespace, so several graphs can share one database.
 */

const entityLabels: ReadonlyMap<string, EntityKind> = new Map(ENTITY_KINDS.map((kind) => [kind, kind]));
const relationshipTypes: ReadonlyMap<string, RelationshipKind> = new Map(
  RELATIONSHIP_KINDS.map((kind) => [kind, kind]),
);

function label(kind: string): EntityKind {
  const known = entityLabels.get(kind);
  if (!known) throw new Error(`not an entity kind: ${kind}`);
  return known;
}

function relationshipType(kind: string): RelationshipKind {
  const known = relationshipTypes.get(kind);
  if (!known) throw new Error(`not a relationship kind: ${kind}`);
  return known;
}

const cache = new Map<string, string>();
function cached(key: string, build: () => string): string {
  let text = cache.get(key);
  if (text === undefined) cache.set(key, (text = build()));
  return text;
}

/** Merges entities of one kind (`$rows`: {id, name, properties, source, confidence, observedAt}); returns `applied`, fewer than the rows if an id has another kind. */
export function upsertEntitiesQuery(kind: EntityKind): string {
  return cached(`entities:${kind}`, () => {
    const name = label(kind);
    return `UNWIND $rows AS row
MERGE (n:Entity {ns: $ns, id: row.id})
ON CREATE SET n:${name}, n.kind = $kind, n.firstSeen = row.observedAt, n.lastSeen = row.observedAt
WITH n, row
WHERE n.kind = $kind
SET n += row.properties,
    n.source = row.source,
    n.confidence = row.confidence,
    n.name = coalesce(row.name, n.name),
    n.firstSeen = CASE WHEN row.observedAt < n.firstSeen THEN row.observedAt ELSE n.firstSeen END,
    n.lastSeen = CASE WHEN row.observedAt > n.lastSeen THEN row.observedAt ELSE n.lastSeen END
RETURN count(*) AS applied`;
  });
}

/** Merges relationships of one kind (`$rows`: {from, to, properties, source, confidence, observedAt}); returns `applied`, fewer than the rows if an end is missing. */
export function upsertRelationshipsQuery(kind: RelationshipKind): string {
  return cached(`relationships:${kind}`, () => {
    const type = relationshipType(kind);
    return `UNWIND $rows AS row
MATCH (a:Entity {ns: $ns, id: row.from})
MATCH (b:Entity {ns: $ns, id: row.to})
MERGE (a)-[r:${type}]->(b)
ON CREATE SET r.firstSeen = row.observedAt, r.lastSeen = row.observedAt
SET r += row.properties,
    r.source = row.source,
    r.confidence = row.confidence,
    r.firstSeen = CASE WHEN row.observedAt < r.firstSeen THEN row.observedAt ELSE r.firstSeen END,
    r.lastSeen = CASE WHEN row.observedAt > r.lastSeen THEN row.observedAt ELSE r.lastSeen END
RETURN count(*) AS applied`;
  });
}

/** Replaces events whole (`$rows`: {id, fields}). */
export const RECORD_EVENTS = `UNWIND $rows AS row
MERGE (e:Event {ns: $ns, id: row.id})
SET e = row.fields`;

/** The kinds of the given ids that exist. */
export const KINDS_OF = `UNWIND $ids AS id
MATCH (n:Entity {ns: $ns, id: id})
RETURN n.id AS id, n.kind AS kind`;

/** Entities by id. */
export const GET_ENTITIES = `UNWIND $ids AS id
MATCH (n:Entity {ns: $ns, id: id})
RETURN n {.*} AS n`;

/** One hop from `$ids` along `walk`, with each entity reached; null when the walk follows nothing. */
export function expandQuery(walk: Walk): string | null {
  if (walk.out.length === 0 && walk.in.length === 0) return null;
  const out = [...new Set(walk.out.map(relationshipType))].sort();
  const incoming = [...new Set(walk.in.map(relationshipType))].sort();
  return cached(`expand:${out.join('|')}:${incoming.join('|')}`, () => {
    const branches: string[] = [];
    if (out.length > 0) {
      branches.push(`MATCH (x)-[r:${out.join('|')}]->(y:Entity) RETURN r, y, true AS outgoing`);
    }
    if (incoming.length > 0) {
      branches.push(`MATCH (x)<-[r:${incoming.join('|')}]-(y:Entity) RETURN r, y, false AS outgoing`);
    }
    return `UNWIND $ids AS fid
MATCH (x:Entity {ns: $ns, id: fid})
CALL (x) {
  ${branches.join('\n  UNION ALL\n  ')}
}
RETURN fid, type(r) AS kind, y {.*} AS other, outgoing, r.confidence AS confidence`;
  });
}

/** Events on `$ids` in [`$since`, `$until`] of `$kinds`. */
export const EVENTS_ON = `UNWIND $ids AS id
MATCH (e:Event {ns: $ns, subject: id})
WHERE e.at >= $since AND e.at <= $until AND e.kind IN $kinds
RETURN e {.*} AS e`;

/** Events of one entity, newest first; `$kinds` null for all. */
export const EVENTS_OF = `MATCH (e:Event {ns: $ns, subject: $id})
WHERE e.at >= $since AND e.at <= $until AND ($kinds IS NULL OR e.kind IN $kinds)
RETURN e {.*} AS e
ORDER BY e.at DESC, e.id DESC
LIMIT $limit`;

/**
 * Entities with their events as `EVENTS_OF` returns them, for several reads at once (`$rows`:
 * {id, since, until, kinds, limit}); a row per read whose entity exists, with its `index`.
 */
export const ENTITIES_WITH_EVENTS = `UNWIND range(0, size($rows) - 1) AS index
WITH index, $rows[index] AS row
MATCH (n:Entity {ns: $ns, id: row.id})
OPTIONAL MATCH (e:Event {ns: $ns, subject: row.id})
WHERE e.at >= row.since AND e.at <= row.until AND (row.kinds IS NULL OR e.kind IN row.kinds)
WITH index, row, n, e
ORDER BY e.at DESC, e.id DESC
WITH index, row, n, collect(e {.*}) AS events
RETURN index, n {.*} AS n, events[..row.limit] AS events`;

/** Incidents sharing a token with `$tokens`. */
export const INCIDENTS_SHARING = `MATCH (n:Entity)
WHERE n.ns = $ns AND n.kind = 'Incident' AND n.signature IS NOT NULL
  AND any(token IN n.signature WHERE token IN $tokens)
RETURN n {.*} AS n`;

/** Entities of `$kind` whose properties equal `$where`, by id. */
export const FIND = `MATCH (n:Entity)
WHERE n.ns = $ns AND n.kind = $kind AND all(key IN keys($where) WHERE n[key] = $where[key])
RETURN n {.*} AS n
ORDER BY n.id
LIMIT $limit`;

/** Deletes up to `$chunk` expired entities of `$kind`, with their events and edges. */
export const EXPIRE_CHUNK = `MATCH (n:Entity)
WHERE n.ns = $ns AND n.kind = $kind AND n.lastSeen < $olderThan
WITH n LIMIT $chunk
OPTIONAL MATCH (e:Event {ns: $ns, subject: n.id})
WITH n, collect(e) AS events
FOREACH (e IN events | DELETE e)
DETACH DELETE n
RETURN count(n) AS removed`;

/** Deletes up to `$chunk` nodes of the namespace. */
export const CLEAR_CHUNK = `MATCH (n)
WHERE (n:Entity OR n:Event) AND n.ns = $ns
WITH n LIMIT $chunk
DETACH DELETE n
RETURN count(n) AS removed`;

export const COUNT_ENTITIES = `MATCH (n:Entity) WHERE n.ns = $ns RETURN n.kind AS kind, count(*) AS count`;
export const COUNT_RELATIONSHIPS = `MATCH (n:Entity)-[r]->() WHERE n.ns = $ns RETURN type(r) AS kind, count(*) AS count`;
export const COUNT_EVENTS = `MATCH (e:Event) WHERE e.ns = $ns RETURN count(*) AS count`;
