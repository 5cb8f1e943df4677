import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import neo4j from 'neo4j-driver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Neo4jGraphStore } from '../../src/graph/neo4j/neo4j-store.js';
import { ManualClock } from '../../src/shared/clock.js';
import { neo4jSkipReason, neo4jUri, openTestStore, uniqueNamespace } from './neo4j-kit.js';

const skip = neo4jSkipReason('neo4j-leader-reads.test.ts');
const T0 = Date.UTC(2026, 11, 7);

/**
 * A Bolt message asking for a read-mode transaction carries `mode: "r"` in its extra map: in
 * PackStream, the tiny string "mode" then the tiny string "r". A cluster routes those to a
 * follower, which may not have a write just committed on the leader yet.
 */
const READ_MODE = Buffer.from([0x84, ...Buffer.from('mode'), 0x81, ...Buffer.from('r')]);

/** A loopback TCP proxy to the test Neo4j that keeps every byte the client sent. */
async function recordingProxy(
  target: URL,
): Promise<{ url: string; sent: () => Buffer; close: () => Promise<void> }> {
  const chunks: Buffer[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port || 7687), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    client.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      upstream.write(chunk);
    });
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `bolt://127.0.0.1:${port}`,
    sent: () => Buffer.concat(chunks),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe.skipIf(skip !== undefined)('Neo4j store reads from the leader', () => {
  let proxy: Awaited<ReturnType<typeof recordingProxy>>;
  let store: Neo4jGraphStore;

  beforeAll(async () => {
    proxy = await recordingProxy(new URL(neo4jUri));
    store = await openTestStore(new ManualClock(T0), uniqueNamespace('leader'), { uri: proxy.url });
  });

  afterAll(async () => {
    await store?.clear();
    await store?.close();
    await proxy?.close();
  });

  it('the proxy sees a plain read-mode transaction', async () => {
    // The control: without it, a proxy that saw nothing would pass the test below.
    const driver = neo4j.driver(proxy.url, undefined, { disableLosslessIntegers: true });
    try {
      const before = proxy.sent().length;
      const session = driver.session({ defaultAccessMode: neo4j.session.READ });
      await session.executeRead((tx) => tx.run('RETURN 1'));
      await session.close();
      expect(proxy.sent().subarray(before).includes(READ_MODE)).toBe(true);
    } finally {
      await driver.close();
    }
  });

  it('sends no read-mode transaction: every read sees the writes committed before it', async () => {
    const before = proxy.sent().length;
    const service = {
      id: 'service:checkout',
      kind: 'Service' as const,
      name: 'checkout',
      source: 'kubernetes' as const,
    };
    const pod = {
      id: 'k8s:c/shop/Pod/checkout-1',
      kind: 'Pod' as const,
      name: 'checkout-1',
      source: 'kubernetes' as const,
    };
    await store.write({
      entities: [service, pod],
      relationships: [{ from: pod.id, to: service.id, kind: 'PART_OF', source: 'kubernetes' }],
      events: [
        {
          id: 'ev-deploy-1',
          entityId: service.id,
          at: T0,
          kind: 'deploy',
          summary: 'checkout 1.2.0',
          source: 'kubernetes',
        },
      ],
    });
    // One of each way the store reads: a single query, a grouped one, a traversal, a search.
    expect((await store.get(service.id))?.name).toBe('checkout');
    expect((await store.getMany([service.id, pod.id])).map((entity) => entity.id)).toEqual([
      service.id,
      pod.id,
    ]);
    expect((await store.getWithEvents(service.id))?.events).toHaveLength(1);
    expect((await store.neighbors(pod.id, { direction: 'out' })).map((reached) => reached.entity.id)).toEqual(
      [service.id],
    );
    expect((await store.find({ kind: 'Pod' })).map((entity) => entity.id)).toEqual([pod.id]);
    expect(await store.health()).toBe('ok');
    const sent = proxy.sent().subarray(before);
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.includes(READ_MODE)).toBe(false);
  });
});
