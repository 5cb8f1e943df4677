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
