import { Queue } from 'bullmq';
import { Registry } from 'prom-client';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { createQueueSink } from '../../src/ingest/queue-sink.js';
import type { Signal } from '../../src/ingest/signal.js';
import type { LoopSettings } from '../../src/loop/pipeline.js';
import type { LoopDeps } from '../../src/loop/pipeline-types.js';
import { waitFor } from '../kit/daemon.js';
import { testPrefix } from '../kit/prefix.js';
import { tempDir } from '../kit/tmp.js';
import {
  connect,
  makeSignal,
  openGraph,
  podRef,
  scriptedDeps,
  startLoopWorld,
  type LoopWorld,
} from './support/loop-world.js';

/** A loop with its metrics on `registry`, whose incidents wait for approval. */
async function world(options: {
  prefix: string;
  registry: Registry;
  settings?: LoopSettings;
  deps?: (prefix: string, graph: LoopWorld['graph']) => LoopDeps;
}): Promise<LoopWorld> {
  const graph = await openGraph(tempDir());
  const started = await startLoopWorld({
    redisUrl: inject('redisUrl'),
    prefix: options.prefix,
    graph,
    registry: options.registry,
    script: { decide: () => ({ mode: 'approval', reason: 'hold' }) },
    ...(options.settings ? { settings: options.settings } : {}),
    ...(options.deps ? { deps: options.deps(options.prefix, graph) } : {}),
  });
  onTestFinished(async () => {
    await started.stop();
    await graph.close();
  });
  return started;
}

/** Submits the signals as one delivery (one ingest job, one detect job judging them in order). */
async function deliver(loop: LoopWorld, prefix: string, signals: Signal[]): Promise<void> {
  const sink = createQueueSink({ connection: loop.redis, prefix });
  onTestFinished(() => sink.close());
  await sink.accept(signals, { channel: 'test' });
}

/** Waits until `stage` has completed `count` jobs. */
async function completed(loop: LoopWorld, prefix: string, stage: string, count: number): Promise<void> {
  const queue = new Queue(stage, { connection: loop.redis, prefix });
  try {
    await waitFor(async () => (await queue.getJobCounts('completed')).completed === count, 10_000, 50);
  } finally {
    await queue.close();
  }
}

/** The values of one metric, each with its labels (histograms: `_bucket`, `_sum`, `_count`). */
async function valuesOf(
  registry: Registry,
  name: string,
): Promise<Array<{ labels: Record<string, string | number>; value: number; metricName?: string }>> {
  const metric = registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  return (await metric.get()).values as Array<{
    labels: Record<string, string | number>;
    value: number;
    metricName?: string;
  }>;
}

describe('loop metrics', () => {
  it('counts suppressed signals by reason: each flapping firing and each silenced signal once', async () => {
    const prefix = testPrefix(import.meta.filename);
    const registry = new Registry();
    const loop = await world({
      prefix,
      registry,
      settings: { noise: { flapThreshold: 3, flapWindowMs: 60_000 } },
    });
    await loop.pipeline.noise.addSilence({
      id: 'web',
      kind: 'silence',
      matchers: [{ name: 'team', value: 'web' }],
    });
    const start = Date.now();
    // Status changes 1..7; the firings making the 4th and 6th exceed 3 are dropped as flapping.
    const flapping = Array.from({ length: 8 }, (_, index) =>
      makeSignal({
        fingerprint: 'Flappy',
        status: index % 2 === 0 ? 'firing' : 'resolved',
        observedAt: start + index,
      }),
    );
    const silenced = [1, 2, 3].map((index) =>
      makeSignal({
        fingerprint: `Web${index}`,
        entities: [podRef(`web-${index}`)],
        labels: { alertname: `Web${index}`, team: 'web' },
        observedAt: start,
      }),
    );
    // One at a time, each judged before the next (one delivery would deduplicate the repeats).
    for (const [index, signal] of [...flapping, ...silenced].entries()) {
      await loop.pipeline.submitSignal(signal);
      await completed(loop, prefix, 'detect', index + 1);
    }

    const byReason: Record<string, number> = {};
    for (const one of await valuesOf(registry, 'nightshift_loop_signals_suppressed_total'))
      byReason[String(one.labels.reason)] = one.value;
    expect(byReason).toEqual({ flapping: 2, silence: 3 });
    const suppressed = (await valuesOf(registry, 'nightshift_loop_signals_total')).find(
      (one) => one.labels.outcome === 'suppressed',
    );
    expect(suppressed?.value).toBe(5);
  });

  it('observes intervention latency from the incident’s first signal received to the first tool call', async () => {
    const prefix = testPrefix(import.meta.filename);
    const registry = new Registry();
    // Received a minute ago (observed earlier still); the first tool call 7.25 s after receipt.
    const receivedAt = Date.now() - 60_000;
    const firstToolCallAt = receivedAt + 7_250;
    const redis = connect(inject('redisUrl'));
    onTestFinished(() => redis.disconnect());
    const loop = await world({
      prefix,
      registry,
      deps: (depsPrefix, graph) => {
        const scripted = scriptedDeps(redis, depsPrefix, graph, {
          decide: () => ({ mode: 'approval', reason: 'hold' }),
        });
        return {
          ...scripted,
          async investigate(input, signal, current) {
            return { ...(await scripted.investigate(input, signal, current)), firstToolCallAt };
          },
        };
      },
    });
    const pod = podRef('slow-1');
    const opening: Signal = {
      ...makeSignal({ fingerprint: 'Latency', entities: [pod], observedAt: receivedAt - 30_000 }),
      receivedAt,
    };
    // Joins the same incident (same pod), received later: the latency still runs from the first.
    const joining: Signal = {
      ...makeSignal({ fingerprint: 'LatencyToo', entities: [pod], observedAt: receivedAt - 20_000 }),
      receivedAt: receivedAt + 3_000,
    };
    await deliver(loop, prefix, [opening, joining]);
    await completed(loop, prefix, 'investigate', 1);

    const [incident] = await loop.pipeline.incidents.list();
    expect(incident?.signalIds).toEqual([opening.id, joining.id]);
    const values = await valuesOf(registry, 'nightshift_loop_intervention_latency_seconds');
    const named = (metricName: string, le?: number): number | undefined =>
      values.find((one) => one.metricName === metricName && (le === undefined || one.labels.le === le))
        ?.value;
    expect(named('nightshift_loop_intervention_latency_seconds_count')).toBe(1);
    expect(named('nightshift_loop_intervention_latency_seconds_sum')).toBeCloseTo(7.25, 6);
    expect(named('nightshift_loop_intervention_latency_seconds_bucket', 5)).toBe(0);
    expect(named('nightshift_loop_intervention_latency_seconds_bucket', 10)).toBe(1);
  });

  it('measures how long each job waited in its queue before a worker took it', async () => {
    const prefix = testPrefix(import.meta.filename);
    const registry = new Registry();
    const loop = await world({ prefix, registry });
    const ingest = loop.workers.find((one) => one.worker.name === 'ingest')?.worker;
    if (!ingest) throw new Error('no ingest worker');
    // The ingest job waits at least 400 ms for its worker; detect's is taken at once.
    await ingest.pause();
    await deliver(loop, prefix, [makeSignal({ fingerprint: 'Queued', entities: [podRef('queued-1')] })]);
    await new Promise((resolve) => setTimeout(resolve, 400));
    await ingest.resume();
    await completed(loop, prefix, 'detect', 1);

    const values = await valuesOf(registry, 'nightshift_loop_job_wait_seconds');
    const of = (stage: string, suffix: string): number | undefined =>
      values.find(
        (one) =>
          one.labels.stage === stage && one.metricName === `nightshift_loop_job_wait_seconds_${suffix}`,
      )?.value;
    expect(of('ingest', 'count')).toBe(1);
    expect(of('ingest', 'sum')).toBeGreaterThanOrEqual(0.4);
    expect(of('ingest', 'sum')).toBeLessThan(5);
    expect(of('detect', 'count')).toBe(1);
    expect(of('detect', 'sum')).toBeLessThan(0.4);
  });
});
