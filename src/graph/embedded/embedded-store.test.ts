import { appendFile, cp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/clock.js';
import { silentLogger } from '../../shared/logger.js';
import { tempDir } from '../../../test/kit/tmp.js';
import type { EntityInput } from '../schema.js';
import { EmbeddedGraphStore, type EmbeddedGraphStoreOptions } from './embedded-store.js';

const T0 = Date.UTC(2026, 10, 22);

function options(dataDir: string, extra: Partial<EmbeddedGraphStoreOptions> = {}): EmbeddedGraphStoreOptions {
  return { dataDir, fsync: 'always', logger: silentLogger(), clock: new ManualClock(T0), ...extra };
}

function services(from: number, count: number): EntityInput[] {
  return Array.from({ length: count }, (_, index) => ({
    id: `service:s${from + index}`,
    kind: 'Service' as const,
    source: 'test',
    observedAt: T0,
    properties: { index: from + index },
  }));
}

async function journalFiles(dir: string): Promise<string[]> {
  return (await readdir(dir))
    .filter((name) => /^journal\.\d{12}\.jsonl$/.test(name))
    .sort()
    .map((name) => join(dir, name));
}

/** The directory as a kill -9 would leave it: everything but the lock of the (still open) store. */
async function crashCopy(dir: string): Promise<string> {
  const copy = tempDir();
  await cp(dir, copy, { recursive: true, filter: (source) => !source.endsWith('/LOCK') });
  return copy;
}

async function fill(store: EmbeddedGraphStore, batches: number): Promise<void> {
  for (let batch = 0; batch < batches; batch++) {
    await store.upsertEntities(services(batch * 10, 10));
    if (batch > 0) {
      await store.upsertRelationships([
        {
          from: `service:s${batch * 10}`,
          kind: 'CALLS',
          to: `service:s${(batch - 1) * 10}`,
          source: 'test',
          observedAt: T0,
        },
      ]);
    }
    await store.recordEvents([
      { id: `e${batch}`, kind: 'deploy', entityId: `service:s${batch * 10}`, at: T0 + batch, source: 'test' },
    ]);
  }
}

describe('EmbeddedGraphStore durability', () => {
  it('snapshots once the journal grows past the threshold, and reopens to the same graph', async () => {
    const dir = tempDir();
    const store = await EmbeddedGraphStore.open(options(dir, { snapshotBytes: 4_096 }));
    await fill(store, 20);
    await store.checkpoint();
    const stats = await store.stats();
    expect((await stat(join(dir, 'snapshot.jsonl'))).size).toBeGreaterThan(0);
    const files = await journalFiles(dir);
    expect(files).toHaveLength(1);
    expect((await stat(files[0] as string)).size).toBe(0);
    const crashed = await crashCopy(dir);
    await store.close();
    for (const copy of [dir, crashed]) {
      const reopened = await EmbeddedGraphStore.open(options(copy));
      expect(await reopened.stats()).toEqual(stats);
      expect(stats).toMatchObject({ entities: 200, relationships: 19, events: 20 });
      expect((await reopened.explainPath('service:s50', 'service:s0'))?.length).toBe(5);
      await reopened.close();
    }
  });

  it('replays journal records after the snapshot, and skips ones the snapshot already holds', async () => {
    const dir = tempDir();
    const store = await EmbeddedGraphStore.open(options(dir));
    await fill(store, 3);
    // A crash between writing a snapshot and deleting the older journal leaves both holding the same records.
    const before = await crashCopy(dir);
    await store.checkpoint();
    await store.upsertEntities([
      { id: 'service:s0', kind: 'Service', source: 'test', properties: { index: null, late: true } },
    ]);
    const expected = await store.stats();
    const s0 = await store.get('service:s0');
    expect(s0?.properties).toEqual({ late: true });
    const crashed = await crashCopy(dir);
    await cp(before, crashed, {
      recursive: true,
      filter: (source) => source === before || /journal\.\d+\.jsonl$/.test(source),
    });
    expect((await journalFiles(crashed)).length).toBe(2);
    await store.close();
    const reopened = await EmbeddedGraphStore.open(options(crashed));
    expect(await reopened.stats()).toEqual(expected);
    expect(await reopened.get('service:s0')).toEqual(s0);
    await reopened.close();
  });

  it('keeps writing while a snapshot is taken, and recovers the same graph from it', async () => {
    const dir = tempDir();
    const store = await EmbeddedGraphStore.open(options(dir, { fsync: 'never' }));
    for (let start = 0; start < 6_000; start += 1_000) await store.upsertEntities(services(start, 1_000));
    const snapshot = store.checkpoint();
    const writes: Array<Promise<unknown>> = [];
    for (let round = 0; round < 30; round++) {
      writes.push(
        store.upsertEntities([
          { id: `service:s${round}`, kind: 'Service', source: 'test', properties: { round, index: null } },
          { id: `service:new${round}`, kind: 'Service', source: 'test' },
        ]),
        store.upsertRelationships([
          { from: `service:new${round}`, kind: 'CALLS', to: `service:s${round}`, source: 'test' },
        ]),
        store.recordEvents([
          { id: `during-${round}`, kind: 'deploy', entityId: `service:new${round}`, at: T0, source: 'test' },
        ]),
      );
    }
    await Promise.all([snapshot, ...writes]);
    const expected = await store.stats();
    const samples = await Promise.all(
      ['service:s3', 'service:new29', 'service:s5999'].map((id) => store.get(id)),
    );
    const crashed = await crashCopy(dir);
    await store.close();
    const reopened = await EmbeddedGraphStore.open(options(crashed));
    expect(await reopened.stats()).toEqual(expected);
    expect(
      await Promise.all(['service:s3', 'service:new29', 'service:s5999'].map((id) => reopened.get(id))),
    ).toEqual(samples);
    expect((await reopened.neighbors('service:new29')).map((item) => item.entity.id)).toEqual([
      'service:s29',
    ]);
    await reopened.close();
  });

  it('opens after a torn last journal record, keeping everything before it', async () => {
    const dir = tempDir();
    const store = await EmbeddedGraphStore.open(options(dir));
    await fill(store, 2);
    const crashed = await crashCopy(dir);
    await store.close();
    const [journal] = await journalFiles(crashed);
    await appendFile(journal as string, '0badf00d {"seq":99,"op":"entities","items":[{"id":"service:torn"');
    const reopened = await EmbeddedGraphStore.open(options(crashed));
    expect((await reopened.stats()).entities).toBe(20);
    expect(await reopened.get('service:torn')).toBeNull();
    await reopened.upsertEntities(services(100, 1));
    await reopened.close();
    const again = await EmbeddedGraphStore.open(options(crashed));
    expect((await again.stats()).entities).toBe(21);
    await again.close();
  });

  it('refuses a second open of the same directory while the first is open', async () => {
    const dir = tempDir();
    const store = await EmbeddedGraphStore.open(options(dir));
    await expect(EmbeddedGraphStore.open(options(dir))).rejects.toMatchObject({ code: 'graph_locked' });
    await store.close();
    const again = await EmbeddedGraphStore.open(options(dir));
    await again.close();
  });

  it('refuses a damaged snapshot and a directory of a newer schema', async () => {
    const dir = tempDir();
    const store = await EmbeddedGraphStore.open(options(dir));
    await fill(store, 2);
    await store.close();
    const snapshot = await readFile(join(dir, 'snapshot.jsonl'), 'utf8');
    await writeFile(join(dir, 'snapshot.jsonl'), snapshot.split('\n').slice(0, -2).join('\n') + '\n');
    await expect(EmbeddedGraphStore.open(options(dir))).rejects.toMatchObject({
      code: 'graph_snapshot_corrupt',
    });

    const newer = tempDir();
    await writeFile(join(newer, 'graph.json'), JSON.stringify({ format: 'nightshift-graph', v: 99 }));
    await expect(EmbeddedGraphStore.open(options(newer))).rejects.toMatchObject({
      code: 'graph_data_dir_too_new',
    });
  });

  it('does not journal a rejected batch', async () => {
    const dir = tempDir();
    const store = await EmbeddedGraphStore.open(options(dir));
    await store.upsertEntities(services(0, 1));
    const [journal] = await journalFiles(dir);
    const size = (await stat(journal as string)).size;
    await expect(
      store.upsertRelationships([
        { from: 'service:s0', kind: 'CALLS', to: 'service:missing', source: 'test' },
      ]),
    ).rejects.toMatchObject({ code: 'validation_failed' });
    await expect(
      store.upsertEntities([{ id: 'service:s0', kind: 'Pod', source: 'test' }]),
    ).rejects.toMatchObject({
      code: 'validation_failed',
    });
    expect((await stat(journal as string)).size).toBe(size);
    await store.close();
  });
});
