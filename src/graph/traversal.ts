import { IMPACTED_END, RELATIONSHIP_KINDS, type EntityKind, type RelationshipKind } from './schema.js';
import type { EdgeDirection, ImpactDirection, PathStep } from './store.js';

/**
 * Traversal shared by both stores, so both answer the same question the same way: a store only
 * supplies `expand` (one hop from a set of ids), and the walk, tie-breaking and path
 * reconstruction live here.
 */

/** Which stored edges one hop follows: outgoing edges of kinds `out`, incoming of kinds `in`. */
export interface Walk {
  out: readonly RelationshipKind[];
  in: readonly RelationshipKind[];
}

/** One hop found by `expand`: from a frontier id over a stored edge to `to`. */
export interface Hop {
  from: string;
  to: string;
  toKind: EntityKind;
  step: PathStep;
}

/** One hop from every id of `frontier` along `walk`; order does not matter. */
export type Expand = (frontier: readonly string[], walk: Walk) => Hop[] | Promise<Hop[]>;

/** How one id was reached. */
export interface Visit {
  distance: number;
  kind?: EntityKind;
  parent?: string;
  step?: PathStep;
}

const DOWNSTREAM: Walk = {
  out: RELATIONSHIP_KINDS.filter((kind) => IMPACTED_END[kind] === 'to'),
  in: RELATIONSHIP_KINDS.filter((kind) => IMPACTED_END[kind] === 'from'),
};
const UPSTREAM: Walk = { out: DOWNSTREAM.in, in: DOWNSTREAM.out };
const IMPACT_KINDS = RELATIONSHIP_KINDS.filter((kind) => IMPACTED_END[kind] !== null);
const IMPACT_BOTH: Walk = { out: IMPACT_KINDS, in: IMPACT_KINDS };

/** The walk of a blast radius in the given direction. */
export function impactWalk(direction: ImpactDirection): Walk {
  if (direction === 'downstream') return DOWNSTREAM;
  if (direction === 'upstream') return UPSTREAM;
  return IMPACT_BOTH;
}

/** The walk of `neighbors`: the given kinds (default all) in the given edge direction. */
export function edgeWalk(direction: EdgeDirection, kinds?: readonly RelationshipKind[]): Walk {
  const chosen = kinds && kinds.length > 0 ? [...new Set(kinds)] : RELATIONSHIP_KINDS;
  return { out: direction === 'in' ? [] : chosen, in: direction === 'out' ? [] : chosen };
}

/** The same walk taken backwards. */
export function reverseWalk(walk: Walk): Walk {
  return { out: walk.in, in: walk.out };
}

/** A total order on hops to one id: parent id, then edge kind, then the edge's stored direction. */
function better(candidate: Hop, current: Hop): boolean {
  if (candidate.from !== current.from) return candidate.from < current.from;
  if (candidate.step.kind !== current.step.kind) return candidate.step.kind < current.step.kind;
  return candidate.step.from < current.step.from;
}

/**
 * Breadth-first from `starts` (distance 0) up to `maxDepth` hops. Each id is reached once, at
 * its least distance, through the smallest parent id (then edge kind, then edge direction) at the level before, so
 * the result is the same whatever order `expand` returns hops in. Stops after the level at
 * which `stopAfter` ids beyond the starts have been reached. Ids of a kind in `stopAt` are
 * reached but not expanded, so nothing is reached through them.
 */
export async function breadthFirst(
  starts: readonly string[],
  walk: Walk,
  maxDepth: number,
  expand: Expand,
  stopAfter = Number.POSITIVE_INFINITY,
  stopAt?: ReadonlySet<string>,
): Promise<Map<string, Visit>> {
  const visits = new Map<string, Visit>();
  for (const start of starts) visits.set(start, { distance: 0 });
  let frontier = [...visits.keys()];
  let reached = 0;
  for (let depth = 1; depth <= maxDepth && frontier.length > 0 && reached < stopAfter; depth++) {
    const hops = await expand(frontier, walk);
    const next = new Map<string, Hop>();
    for (const hop of hops) {
      if (visits.has(hop.to)) continue;
      const current = next.get(hop.to);
      if (!current || better(hop, current)) next.set(hop.to, hop);
    }
    for (const [id, hop] of next) {
      visits.set(id, { distance: depth, kind: hop.toKind, parent: hop.from, step: hop.step });
    }
    reached += next.size;
    frontier = [];
    for (const [id, hop] of next) if (!stopAt?.has(hop.toKind)) frontier.push(id);
  }
  return visits;
}

/** The steps from the start that reached `id` to `id`. */
export function pathTo(visits: ReadonlyMap<string, Visit>, id: string): PathStep[] {
  const steps: PathStep[] = [];
  let visit = visits.get(id);
  while (visit?.step && visit.parent !== undefined) {
    steps.push(visit.step);
    visit = visits.get(visit.parent);
  }
  return steps.reverse();
}

/** Reached ids other than the starts, by distance then id, at most `limit`. */
export function ranked(
  visits: ReadonlyMap<string, Visit>,
  limit: number,
  keep: (visit: Visit) => boolean = () => true,
): Array<[string, Visit]> {
  const result: Array<[string, Visit]> = [];
  for (const entry of visits) if (entry[1].distance > 0 && keep(entry[1])) result.push(entry);
  result.sort((a, b) => a[1].distance - b[1].distance || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return result.length > limit ? result.slice(0, limit) : result;
}

/**
 * One shortest path from `a` to `b` along `walk` (use a symmetric walk to ignore direction),
 * searching from both ends, one whole level of the smaller side at a time. Null if none within
 * `maxDepth` hops, or if the search grows past `maxVisited` ids.
 */
export async function shortestPath(
  a: string,
  b: string,
  walk: Walk,
  maxDepth: number,
  expand: Expand,
  maxVisited = 500_000,
): Promise<PathStep[] | null> {
  if (a === b) return [];
  const forward = new Map<string, Visit>([[a, { distance: 0 }]]);
  const backward = new Map<string, Visit>([[b, { distance: 0 }]]);
  let forwardFrontier = [a];
  let backwardFrontier = [b];
  let forwardDepth = 0;
  let backwardDepth = 0;
  const backwardWalk = reverseWalk(walk);
  while (
    forwardDepth + backwardDepth < maxDepth &&
    forwardFrontier.length > 0 &&
    backwardFrontier.length > 0
  ) {
    const goForward = forwardFrontier.length <= backwardFrontier.length;
    const visits = goForward ? forward : backward;
    const other = goForward ? backward : forward;
    const hops = await expand(
      goForward ? forwardFrontier : backwardFrontier,
      goForward ? walk : backwardWalk,
    );
    const depth = (goForward ? forwardDepth : backwardDepth) + 1;
    const next = new Map<string, Hop>();
    for (const hop of hops) {
      if (visits.has(hop.to)) continue;
      const current = next.get(hop.to);
      if (!current || better(hop, current)) next.set(hop.to, hop);
    }
    let meeting: string | undefined;
    for (const [id, hop] of next) {
      visits.set(id, { distance: depth, parent: hop.from, step: hop.step });
      if (other.has(id) && (meeting === undefined || id < meeting)) meeting = id;
    }
    if (goForward) {
      forwardDepth = depth;
      forwardFrontier = [...next.keys()];
    } else {
      backwardDepth = depth;
      backwardFrontier = [...next.keys()];
    }
    if (meeting !== undefined) {
      // The backward side's steps run from b towards the meeting point; walking a → b reads them reversed.
      return [...pathTo(forward, meeting), ...pathTo(backward, meeting).reverse()];
    }
    if (forward.size + backward.size > maxVisited) return null;
  }
  return null;
}
