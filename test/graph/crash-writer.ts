/**
 * A writer for the kill -9 test: opens the embedded store in argv[2] and writes batches until it
 * is killed, appending each batch number to the file argv[3] only after all its writes were
 * acknowledged. argv[4] is the fsync policy.
 */
import { appendFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { EmbeddedGraphStore } from '../../src/graph/embedded/embedded-store.js';
import type { FsyncPolicy } from '../../src/graph/embedded/journal.js';
import { systemClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';

export const PODS_PER_BATCH = 50;

export function podId(batch: number, index: number): string {
  return `k8s:crash/ns/Pod/b${batch}-${index}`;
}

export function nodeOf(batch: number): string {
  return `k8s:crash/Node/n${batch}`;
}

async function main(): Promise<void> {
  const [dataDir, ackFile, fsync] = process.argv.slice(2) as [string, string, FsyncPolicy];
  const store = await EmbeddedGraphStore.open({
    dataDir,
    fsync,
    snapshotBytes: 256 * 1024,
    logger: silentLogger(),
    clock: systemClock,
  });
  for (let batch = 1; ; batch++) {
    const pods = Array.from({ length: PODS_PER_BATCH }, (_, index) => ({
      id: podId(batch, index),
      kind: 'Pod' as const,
      source: 'crash-test',
      properties: { batch, index, image: `registry.example/app:${batch}` },
    }));
    await store.upsertEntities([{ id: nodeOf(batch), kind: 'Node', source: 'crash-test' }, ...pods]);
    await store.upsertRelationships(
      pods.map((pod) => ({
        from: pod.id,
        kind: 'RUNS_ON' as const,
        to: nodeOf(batch),
        source: 'crash-test',
      })),
    );
    await store.recordEvents([
      {
        id: `ev-${batch}`,
        kind: 'node-event',
        entityId: nodeOf(batch),
        at: Date.now(),
        source: 'crash-test',
      },
    ]);
    appendFileSync(ackFile, `${batch}\n`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await main();
}
