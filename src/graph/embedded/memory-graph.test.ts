import { describe, expect, it } from 'vitest';
import type { EntityWrite, GraphEvent } from '../schema.js';
import { MemoryGraph } from './memory-graph.js';

function write(id: string, kind: EntityWrite['kind'] = 'Service'): EntityWrite {
  return { id, kind, properties: {}, source: 'test', confidence: 1, observedAt: 1 };
}

function event(id: string, at: number, entityId = 'service:a'): GraphEvent {
  return { id, kind: 'deploy', entityId, at, properties: {}, source: 'test', confidence: 1 };
}

describe('MemoryGraph', () => {
  it('skips a snapshot edge whose end is not loaded (the journal replays both)', () => {
    const graph = new MemoryGraph();
    graph.loadEntity({
      id: 'service:a',
      kind: 'Service',
      properties: {},
      provenance: { source: 't', confidence: 1, firstSeen: 1, lastSeen: 1 },
    });
    const edge = {
      kind: 'CALLS' as const,
      from: 'service:a',
      to: 'service:b',
      properties: {},
      provenance: { source: 't', confidence: 1, firstSeen: 1, lastSeen: 1 },
    };
    expect(graph.loadRelationship(edge)).toBe(false);
    expect(graph.relationshipCount).toBe(0);
    graph.applyEntities([write('service:b')]);
    expect(graph.loadRelationship(edge)).toBe(true);
    expect(graph.relationshipsByKind().get('CALLS')).toBe(1);
  });

  it('keeps events of an entity in time order whatever order they arrive in, and moves a replaced one', () => {
    const graph = new MemoryGraph();
    graph.applyEvents([event('c', 30), event('a', 10), event('b', 20), event('b2', 20)]);
    expect(graph.eventsOf('service:a', 0, 100).map((item) => item.id)).toEqual(['a', 'b', 'b2', 'c']);
    graph.applyEvents([event('a', 40)]);
    expect(graph.eventsOf('service:a', 0, 100).map((item) => item.id)).toEqual(['b', 'b2', 'c', 'a']);
    expect(graph.eventsOf('service:a', 20, 30).map((item) => item.id)).toEqual(['b', 'b2', 'c']);
    expect(graph.eventCount).toBe(4);
  });

  it('keeps relationship counts right through expiry', () => {
    const graph = new MemoryGraph();
    graph.applyEntities([write('k8s:c/Node/n', 'Node'), write('k8s:c/ns/Pod/p', 'Pod'), write('service:s')]);
    graph.applyRelationships([
      {
        kind: 'RUNS_ON',
        from: 'k8s:c/ns/Pod/p',
        to: 'k8s:c/Node/n',
        properties: {},
        source: 't',
        confidence: 1,
        observedAt: 1,
      },
      {
        kind: 'SELECTS',
        from: 'service:s',
        to: 'k8s:c/ns/Pod/p',
        properties: {},
        source: 't',
        confidence: 1,
        observedAt: 1,
      },
    ]);
    expect(graph.expire('Pod', 2)).toEqual(['k8s:c/ns/Pod/p']);
    expect(graph.relationshipCount).toBe(0);
    expect([...graph.relationshipsByKind()]).toEqual([]);
    expect([...graph.entitiesByKind()]).toEqual([
      ['Node', 1],
      ['Service', 1],
    ]);
  });
});
