import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RelationshipKind } from './schema.js';
import { breadthFirst, edgeWalk, pathTo, shortestPath, type Hop, type Walk } from './traversal.js';

type Edge = [from: string, kind: RelationshipKind, to: string];

/** An `expand` over a fixed edge list that returns hops in an order chosen by `order`. */
function expander(edges: readonly Edge[], order: (hops: Hop[]) => Hop[]) {
  return (frontier: readonly string[], walk: Walk): Hop[] => {
    const hops: Hop[] = [];
    for (const id of frontier) {
      for (const [from, kind, to] of edges) {
        const step = { from, kind, to, confidence: 1 };
        if (from === id && walk.out.includes(kind)) hops.push({ from: id, to, toKind: 'Service', step });
        if (to === id && walk.in.includes(kind)) hops.push({ from: id, to: from, toKind: 'Service', step });
      }
    }
    return order(hops);
  };
}

const node = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g');
const edge = fc.tuple(node, fc.constantFrom<RelationshipKind>('CALLS', 'DEPENDS_ON'), node);

describe('breadthFirst', () => {
  it('reaches the same ids, distances and paths whatever order hops come back in', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(edge, { maxLength: 20 }), fc.integer(), async (edges, seed) => {
        const walk = edgeWalk('both');
        const plain = await breadthFirst(
          ['a'],
          walk,
          4,
          expander(edges, (hops) => hops),
        );
        const shuffled = await breadthFirst(
          ['a'],
          walk,
          4,
          expander(
            edges,
            (hops) =>
              fc.sample(fc.shuffledSubarray(hops, { minLength: hops.length }), { seed, numRuns: 1 })[0] ??
              hops,
          ),
        );
        expect([...shuffled.keys()].sort()).toEqual([...plain.keys()].sort());
        for (const id of plain.keys()) {
          expect(shuffled.get(id)?.distance).toBe(plain.get(id)?.distance);
          expect(pathTo(shuffled, id)).toEqual(pathTo(plain, id));
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('shortestPath', () => {
  it('finds a path as short as breadth-first search does, and a real one', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(edge, { maxLength: 20 }), node, async (edges, target) => {
        const walk = edgeWalk('both');
        const expand = expander(edges, (hops) => hops);
        const visits = await breadthFirst(['a'], walk, 6, expand);
        const path = await shortestPath('a', target, walk, 6, expand);
        const expected = target === 'a' ? 0 : visits.get(target)?.distance;
        if (expected === undefined) {
          expect(path).toBeNull();
          return;
        }
        expect(path).toHaveLength(expected);
        let at = 'a';
        for (const step of path ?? []) {
          expect(
            edges.some(([from, kind, to]) => from === step.from && kind === step.kind && to === step.to),
          ).toBe(true);
          expect([step.from, step.to]).toContain(at);
          at = step.from === at ? step.to : step.from;
        }
        expect(at).toBe(target);
      }),
      { numRuns: 300 },
    );
  });
});
