import { Queue } from 'bullmq';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import type { GraphStore } from '../../src/graph/store.js';
import { systemClock } from '../../src/shared/clock.js';
import { neo4jSkipReason, openTestStore, uniqueNamespace } from '../graph/neo4j-kit.js';
import { waitFor } from '../kit/daemon.js';
import { testPrefix } from '../kit/prefix.js';
import { tempDir } from '../kit/tmp.js';
import {
  effectCounts,
  makeSignal,
  openGraph,
  podRef,
  startLoopWorld,
  type LoopWorld,
} from './support/loop-world.js';

const neo4jSkip = neo4jSkipReason('test/loop/replicas.test.ts');

/**
 * Two replicas, each with its own loop and graph store (`graphs`; the same object twice for the
 * embedded graph, which one process owns), on one Redis: 40 signals, 20 incidents, each approved
 * by both replicas at once. Every incident must be opened once and every effect run once.
 */
async function twoReplicas(prefix: string, graphs: readonly [GraphStore, GraphStore]): Promise<void> {
  const replicas: LoopWorld[] = [];
  const processed = [0, 0];
  onTestFinished(async () => {
    await Promise.all(replicas.map((replica) => replica.stop()));
  });
  for (const index of [0, 1] as const) {
    const replica = await startLoopWorld({
      redisUrl: inject('redisUrl'),
      prefix,
      graph: graphs[index],
      script: { decide: () => ({ mode: 'approval', reason: 'a person decides' }) },
    });
    for (const one of replica.workers)
      one.worker.on('completed', () => {
        processed[index] = (processed[index] ?? 0) + 1;
      });
    replicas.push(replica);
  }
  const [first, second] = replicas as [LoopWorld, LoopWorld];
  // 20 failures, each reported by two alerts on the same pod at once: 40 signals, 20 incidents.
  const signals = Array.from({ length: 20 }, (_, index) => [
    makeSignal({ fingerprint: `Down-${index}`, entities: [podRef(`replica-${index}`)] }),
    makeSignal({ fingerprint: `Slow-${index}`, entities: [podRef(`replica-${index}`)] }),
  ]).flat();
  await Promise.all(
    signals.map((signal, index) => (index % 2 === 0 ? first : second).pipeline.submitSignal(signal)),
  );
  const detect = new Queue('detect', { connection: first.redis, prefix });
  await waitFor(async () => (await detect.getJobCounts('completed')).completed === 40, 20_000, 100);
  await detect.close();
  await waitFor(
    async () => (await first.pipeline.incidents.list({ states: ['awaiting-approval'] })).length === 20,
    20_000,
    100,
  );
  const waiting = await first.pipeline.incidents.list({ limit: 1_000 });
  expect(waiting).toHaveLength(20);
  expect(waiting.every((incident) => incident.signals.size === 2)).toBe(true);

  // Both replicas approve every incident at once: one approval wins each time.
  const answers = await Promise.all(
    waiting.flatMap((incident) => replicas.map((replica) => replica.pipeline.approve(incident.key, 0, 'U1'))),
  );
  expect(answers.filter((answer) => 'ok' in answer)).toHaveLength(20);
  await waitFor(
    async () => (await first.pipeline.incidents.list({ states: ['resolved'] })).length === 20,
    20_000,
    100,
  );
  for (const incident of await first.pipeline.incidents.list({ limit: 1_000 })) {
    expect(incident.transitions.map((entry) => entry.to)).toEqual([
      'investigating',
      'awaiting-approval',
      'acting',
      'verifying',
      'resolved',
    ]);
    await waitFor(async () => (await effectCounts(first.redis, prefix, incident.key)).learn === 1, 5_000, 50);
    expect(await effectCounts(first.redis, prefix, incident.key)).toEqual({
      investigate: 1,
      respond: 1,
      execute: 1,
      verify: 1,
      escalate: 0,
      learn: 1,
    });
  }
  expect(processed[0]).toBeGreaterThan(0);
  expect(processed[1]).toBeGreaterThan(0);
}

describe('two replicas on one Redis', () => {
  it('handle each incident once on the embedded graph: one incident per failure, every effect exactly once', async () => {
    const graph = await openGraph(tempDir());
    onTestFinished(() => graph.close());
    await twoReplicas(testPrefix(import.meta.filename), [graph, graph]);
  });

  // Each replica has its own Neo4j store, as two daemons do: the Redis lock is what keeps their
  // writes to one incident apart.
  it.skipIf(neo4jSkip)(
    'handle each incident once on Neo4j, each with its own store: one incident per failure, every effect exactly once',
    async () => {
      const namespace = uniqueNamespace('replicas');
      const one = await openTestStore(systemClock, namespace);
      const two = await openTestStore(systemClock, namespace);
      onTestFinished(async () => {
        await one.clear();
        await one.close();
        await two.close();
      });
      await twoReplicas(testPrefix(import.meta.filename), [one, two]);
    },
    120_000,
  );
});
