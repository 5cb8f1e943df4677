import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedGraphStore } from '../../src/graph/embedded/embedded-store.js';
import { ManualClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { tempDir } from '../kit/tmp.js';

const open: EmbeddedGraphStore[] = [];
afterEach(async () => {
  for (const store of open.splice(0)) await store.close();
});

async function store(dataDir: string): Promise<EmbeddedGraphStore> {
  const opened = await EmbeddedGraphStore.open({
    dataDir,
    fsync: 'always',
    logger: silentLogger(),
    clock: new ManualClock(1_700_000_000_000),
  });
  open.push(opened);
  return opened;
}

/** Records in the journal files, in order, as `op` names. */
async function journalOps(dataDir: string): Promise<string[]> {
  const files = (await readdir(dataDir)).filter((name) => name.startsWith('journal')).sort();
  const ops: string[] = [];
  for (const file of files) {
    for (const line of (await readFile(join(dataDir, file), 'utf8')).split('\n')) {
      if (line.trim() === '') continue;
      ops.push((JSON.parse(line.slice(line.indexOf(' ') + 1)) as { op: string }).op);
    }
  }
  return ops;
}

describe('the embedded store under a burst of writes', () => {
  it('commits writes issued together in order, each checked against those before it', async () => {
    const dataDir = tempDir();
    const graph = await store(dataDir);
    await graph.upsertEntities([{ id: 'service:a', kind: 'Service', name: 'a', source: 'test' }]);
    // None of these is awaited before the next is issued: they are written as one group.
    const results = await Promise.allSettled([
      graph.upsertEntities([{ id: 'service:b', kind: 'Service', name: 'b', source: 'test' }]),
      graph.upsertRelationships([{ kind: 'CALLS', from: 'service:a', to: 'service:b', source: 'test' }]),
      // An edge to an entity written only after it in the group is refused…
      graph.upsertRelationships([{ kind: 'CALLS', from: 'service:a', to: 'service:c', source: 'test' }]),
      graph.upsertEntities([{ id: 'service:c', kind: 'Service', name: 'c', source: 'test' }]),
      // …as is an id taking another kind than one given earlier in the group.
      graph.upsertEntities([{ id: 'service:b', kind: 'Pod', name: 'b', source: 'test' }]),
      graph.recordEvents([{ id: 'e1', kind: 'deploy', entityId: 'service:b', at: 1, source: 'test' }]),
    ]);
    expect(results.map((result) => result.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
      'rejected',
      'fulfilled',
    ]);
    expect(String((results[2] as PromiseRejectedResult).reason)).toContain('no entity "service:c"');
    expect(String((results[4] as PromiseRejectedResult).reason)).toContain('is a Service');
    expect((await graph.neighbors('service:a', { depth: 1 })).map((one) => one.entity.id)).toEqual([
      'service:b',
    ]);
    expect(await journalOps(dataDir)).toEqual([
      'entities',
      'entities',
      'relationships',
      'entities',
      'events',
    ]);

    await graph.close();
    open.splice(0);
    const reopened = await store(dataDir);
    expect((await reopened.get('service:c'))?.kind).toBe('Service');
    expect((await reopened.get('service:b'))?.kind).toBe('Service');
    expect(await reopened.events('service:b')).toHaveLength(1);
  });

  it('checks a combined write in its group like the batches before it, one journal record each', async () => {
    const dataDir = tempDir();
    const graph = await store(dataDir);
    const service = (id: string, kind: 'Service' | 'Pod' = 'Service') => ({
      id,
      kind,
      name: id,
      source: 'test',
    });
    const calls = (from: string, to: string) => ({ kind: 'CALLS' as const, from, to, source: 'test' });
    const event = (id: string, entityId: string) => ({
      id,
      kind: 'deploy' as const,
      entityId,
      at: 1,
      source: 'test',
    });
    const results = await Promise.allSettled([
      graph.upsertEntities([service('service:a')]),
      // Its edge ends at an entity of the batch before it in the group, and at one of its own.
      graph.write({
        entities: [service('service:b')],
        relationships: [calls('service:a', 'service:b'), calls('service:b', 'service:a')],
        events: [event('e1', 'service:b')],
      }),
      // A kind change against the write before it: refused whole, its event included.
      graph.write({ entities: [service('service:b', 'Pod')], events: [event('e2', 'service:b')] }),
      // An end written by no one: refused whole, its entity included.
      graph.write({ entities: [service('service:c')], relationships: [calls('service:c', 'service:ghost')] }),
    ]);
    expect(results.map((result) => result.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'rejected',
      'rejected',
    ]);
    expect(String((results[2] as PromiseRejectedResult).reason)).toContain('entities[0].kind');
    expect(String((results[3] as PromiseRejectedResult).reason)).toContain('relationships[0].to');
    expect(await journalOps(dataDir)).toEqual(['entities', 'write']);

    await graph.close();
    open.splice(0);
    const reopened = await store(dataDir);
    expect((await reopened.neighbors('service:a', { depth: 1 })).map((one) => one.entity.id)).toEqual([
      'service:b',
    ]);
    expect((await reopened.events('service:b')).map((one) => one.id)).toEqual(['e1']);
    expect(await reopened.get('service:c')).toBeNull();
  });

  it('acknowledges a thousand concurrent writes, every one on disk after a reopen', async () => {
    const dataDir = tempDir();
    const graph = await store(dataDir);
    await Promise.all(
      Array.from({ length: 1_000 }, (_, index) =>
        graph.upsertEntities([{ id: `pod:p${index}`, kind: 'Pod', name: `p${index}`, source: 'test' }]),
      ),
    );
    await graph.close();
    open.splice(0);
    const reopened = await store(dataDir);
    expect((await reopened.stats()).entities).toBe(1_000);
  });
});
