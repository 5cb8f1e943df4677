import { afterEach, describe, expect, it } from 'vitest';
import type { EmbeddedGraphStore } from '../../../src/graph/embedded/embedded-store.js';
import { GraphBatch } from '../../../src/ingest/kubernetes/graph-batch.js';
import { ValidationError } from '../../../src/shared/errors.js';
import { openTestGraph } from '../../kit/graph.js';

const graphs: EmbeddedGraphStore[] = [];
afterEach(async () => {
  for (const graph of graphs.splice(0)) await graph.close();
});

describe('a graph batch', () => {
  it('writes entities, edges and events in one write', async () => {
    const graph = await openTestGraph();
    graphs.push(graph);
    const batch = new GraphBatch('test', 1_000);
    batch.entity({ id: 'service:a', kind: 'Service', name: 'a' });
    batch.entity({ id: 'service:b', kind: 'Service', name: 'b' });
    batch.edge('service:a', 'CALLS', 'service:b');
    batch.event({ id: 'e1', kind: 'deploy', entityId: 'service:a', at: 1_000 });
    expect(await batch.write(graph)).toEqual({ entities: 2, relationships: 1, events: 1 });
    expect((await graph.neighbors('service:a')).map((one) => one.entity.id)).toEqual(['service:b']);
    expect(await graph.events('service:a')).toHaveLength(1);
  });

  it('keeps what is valid when the graph refuses part of it, then throws the refusal', async () => {
    const graph = await openTestGraph();
    graphs.push(graph);
    const batch = new GraphBatch('test', 1_000);
    batch.entity({ id: 'service:a', kind: 'Service', name: 'a' });
    // The Service this edge names has not been written yet (its watch has not caught up).
    batch.edge('service:a', 'CALLS', 'service:later');
    batch.event({ id: 'e1', kind: 'deploy', entityId: 'service:a', at: 1_000 });
    const refused = await batch.write(graph).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(ValidationError);
    expect(String(refused)).toContain('service:later');
    expect(await graph.get('service:a')).not.toBeNull();
    expect(await graph.neighbors('service:a')).toEqual([]);
  });
});
