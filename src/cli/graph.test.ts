import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { estate, ids } from '../../test/graph/contract.js';
import { tempDir } from '../../test/kit/tmp.js';
import { EmbeddedGraphStore } from '../graph/embedded/embedded-store.js';
import type { GraphStore } from '../graph/store.js';
import { ManualClock } from '../shared/clock.js';
import { silentLogger } from '../shared/logger.js';
import { graphCommand } from './graph.js';
import { UsageError, type CliIo } from './io.js';

function capture(): { io: CliIo; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  const sink = (append: (text: string) => void): Writable =>
    new Writable({
      write(chunk: Buffer | string, _encoding, callback) {
        append(chunk.toString());
        callback();
      },
    });
  const io: CliIo = {
    stdout: sink((text) => (out += text)),
    stderr: sink((text) => (err += text)),
    env: {},
    cwd: process.cwd(),
    signal: new AbortController().signal,
  };
  return { io, out: () => out, err: () => err };
}

async function seeded(): Promise<() => Promise<GraphStore>> {
  const dataDir = tempDir();
  const options = { dataDir, logger: silentLogger(), clock: new ManualClock(Date.UTC(2026, 10, 22)) };
  const store = await EmbeddedGraphStore.open(options);
  await store.upsertEntities(estate.entities);
  await store.upsertRelationships(estate.relationships);
  await store.close();
  return () => EmbeddedGraphStore.open(options);
}

describe('nightshift graph', () => {
  it('stats: counts by kind, as text and JSON', async () => {
    const command = graphCommand(await seeded());
    const text = capture();
    expect(await command(['stats'], text.io)).toBe(0);
    expect(text.out()).toContain('backend        embedded (graph schema v1)');
    expect(text.out()).toMatch(/entities\s+17\n/);
    expect(text.out()).toMatch(/ {2}Service\s+4\n/);
    const json = capture();
    expect(await command(['stats', '--json'], json.io)).toBe(0);
    expect(JSON.parse(json.out())).toMatchObject({ backend: 'embedded', entities: 17, relationships: 18 });
  });

  it('show: the entity, its provenance and neighbours as a tree', async () => {
    const command = graphCommand(await seeded());
    const { io, out } = capture();
    expect(await command(['show', ids.checkout], io)).toBe(0);
    const lines = out().split('\n');
    expect(lines[0]).toBe('Service service:checkout "checkout"');
    expect(lines[1]).toContain('source test, confidence 1, first seen 2026-11-22T12:00:00.000Z');
    expect(lines[2]).toBe('  port=8080 tier=core');
    expect(out()).toContain(`├─←CALLS─ Service ${ids.frontend} "frontend"`);
    expect(out()).toContain(`├──DEPENDS_ON→ (0.6) FeatureFlag ${ids.flag} "new-checkout"`);
    expect(out()).toContain(`└──OWNED_BY→ Team ${ids.team} "payments"`);
  });

  it('blast-radius: a tree following each path, or JSON with the paths', async () => {
    const command = graphCommand(await seeded());
    const text = capture();
    expect(await command(['blast-radius', ids.node1, '--depth', '3'], text.io)).toBe(0);
    expect(text.out()).toBe(
      [
        `blast radius of Node ${ids.node1} "n1" (downstream, depth 3): 4 entities`,
        `├──PART_OF→ Cluster ${ids.cluster}`,
        `└─←RUNS_ON─ Pod ${ids.pod1}`,
        `   └─←SELECTS─ Service ${ids.checkout} "checkout"`,
        `      └─←CALLS─ Service ${ids.frontend} "frontend"`,
        '',
      ].join('\n'),
    );
    const json = capture();
    expect(await command(['blast-radius', ids.frontend, '--direction', 'upstream', '--json'], json.io)).toBe(
      0,
    );
    const parsed = JSON.parse(json.out()) as {
      direction: string;
      reached: Array<{ entity: { id: string }; path: unknown[] }>;
    };
    expect(parsed.direction).toBe('upstream');
    expect(parsed.reached.find((item) => item.entity.id === ids.payments)?.path).toHaveLength(2);
  });

  it('exits 1 for an unknown entity and rejects bad usage', async () => {
    const command = graphCommand(await seeded());
    const missing = capture();
    expect(await command(['show', 'service:nope'], missing.io)).toBe(1);
    expect(missing.err()).toBe('no entity "service:nope" in the graph\n');
    const { io } = capture();
    await expect(command([], io)).rejects.toBeInstanceOf(UsageError);
    await expect(command(['explode'], io)).rejects.toBeInstanceOf(UsageError);
    await expect(command(['show'], io)).rejects.toBeInstanceOf(UsageError);
    await expect(command(['show', ids.checkout, '--depth', '9'], io)).rejects.toThrow('--depth');
    await expect(command(['blast-radius', ids.checkout, '--direction', 'sideways'], io)).rejects.toThrow(
      '--direction',
    );
    await expect(command(['stats', '--depth', '2'], io)).rejects.toBeInstanceOf(UsageError);
  });
});
