import { describe, expect, it } from 'vitest';
import { startNeo4j, type Neo4jServer } from '../../scripts/neo4j-local.mjs';
import { Neo4jGraphStore } from '../../src/graph/neo4j/neo4j-store.js';
import type { EntityInput } from '../../src/graph/schema.js';
import { ManualClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { freePort } from '../kit/ports.js';
import { tempDir } from '../kit/tmp.js';
import { neo4jSkipReason } from './neo4j-kit.js';

const skip = neo4jSkipReason('neo4j-restart.test.ts');
const BATCHES = 40;
const PODS = 20;

const nodeOf = (batch: number): string => `k8s:restart/Node/n${batch}`;
const podOf = (batch: number, index: number): string => `k8s:restart/ns/Pod/b${batch}-${index}`;

async function writeBatch(store: Neo4jGraphStore, batch: number): Promise<void> {
  const pods: EntityInput[] = Array.from({ length: PODS }, (_, index) => ({
    id: podOf(batch, index),
    kind: 'Pod',
    source: 'restart-test',
    properties: { batch },
  }));
  await store.upsertEntities([{ id: nodeOf(batch), kind: 'Node', source: 'restart-test' }, ...pods]);
  await store.upsertRelationships(
    pods.map((pod) => ({
      from: pod.id,
      kind: 'RUNS_ON' as const,
      to: nodeOf(batch),
      source: 'restart-test',
    })),
  );
  await store.recordEvents([
    {
      id: `restart-${batch}`,
      kind: 'node-event',
      entityId: nodeOf(batch),
      at: batch,
      source: 'restart-test',
    },
  ]);
}

describe.skipIf(skip !== undefined)('Neo4j store: Neo4j stopped and restarted during ingestion', () => {
  it(
    'waits for Neo4j at start, then retries writes across a restart and loses none',
    { timeout: 600_000 },
    async () => {
      const home = tempDir('nightshift-neo4j-restart-');
      const port = await freePort();
      const logLines: string[] = [];
      const log = (line: string): void => {
        logLines.push(line);
        if (logLines.length > 40) logLines.shift();
      };
      // Opened before Neo4j runs: it must wait and connect, not fail or fall back.
      const store = await Neo4jGraphStore.open({
        uri: `bolt://127.0.0.1:${port}`,
        namespace: 'restart',
        logger: silentLogger(),
        clock: new ManualClock(),
        operationTimeoutMs: 240_000,
        retry: { initialMs: 100, maxMs: 1_000 },
      });
      let server: Neo4jServer | undefined;
      try {
        expect(await store.health()).toBe('down');
        server = await startNeo4j({ port, homeDir: home, log, timeoutMs: 180_000 });
        await store.ready(60_000);
        expect(await store.health()).toBe('ok');

        const acknowledged: number[] = [];
        let failure: unknown;
        const writer = (async () => {
          for (let batch = 1; batch <= BATCHES; batch++) {
            await writeBatch(store, batch);
            acknowledged.push(batch);
          }
        })().catch((error: unknown) => {
          failure = error;
        });

        while (acknowledged.length < 10 && failure === undefined)
          await new Promise((resolve) => setTimeout(resolve, 10));
        await server.stop();
        const stoppedAt = acknowledged.length;
        expect(await store.health()).toBe('down');
        server = await startNeo4j({ port, homeDir: home, log, timeoutMs: 180_000 });
        await writer;
        expect(failure).toBeUndefined();
        expect(acknowledged).toEqual(Array.from({ length: BATCHES }, (_, index) => index + 1));
        expect(stoppedAt).toBeLessThan(BATCHES);

        expect(await store.health()).toBe('ok');
        const stats = await store.stats();
        expect(stats.entitiesByKind).toEqual({ Node: BATCHES, Pod: BATCHES * PODS });
        expect(stats.relationships).toBe(BATCHES * PODS);
        expect(stats.events).toBe(BATCHES);
        for (const batch of [1, stoppedAt, stoppedAt + 1, BATCHES]) {
          const pods = await store.neighbors(nodeOf(batch), {
            kinds: ['RUNS_ON'],
            direction: 'in',
            limit: 100,
          });
          expect(pods.map((item) => item.entity.id).sort()).toEqual(
            Array.from({ length: PODS }, (_, index) => podOf(batch, index)).sort(),
          );
        }
      } catch (error) {
        process.stderr.write(`[test] Neo4j output before the failure:\n${logLines.join('\n')}\n`);
        throw error;
      } finally {
        await store.close();
        await server?.stop();
      }
    },
  );
});
