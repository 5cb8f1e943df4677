import * as k8s from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import { describe, expect, inject, it } from 'vitest';
import type { Entity } from '../../src/graph/schema.js';
import type { GraphStore } from '../../src/graph/store.js';
import { serviceId } from '../../src/graph/ids.js';
import { waitFor } from '../kit/daemon.js';
import { testPrefix } from '../kit/prefix.js';
import { tempDir } from '../kit/tmp.js';
import {
  deployRecorded,
  logBaselineRead,
  startPollingDaemon,
  type PollingDaemon,
} from './polling-daemon-kit.js';

const prefix = testPrefix(import.meta.filename);

async function alertWith(graph: GraphStore, fingerprint: string): Promise<Entity | undefined> {
  return (await graph.find({ kind: 'Alert', where: { fingerprint }, limit: 10 }))[0];
}

async function annotateService(daemon: PollingDaemon, annotations: Record<string, string>): Promise<void> {
  const kubeConfig = new k8s.KubeConfig();
  kubeConfig.loadFromFile(daemon.sim.kubernetes.kubeconfigPath);
  const core = kubeConfig.makeApiClient(k8s.CoreV1Api);
  await core.patchNamespacedService(
    { name: 'checkout', namespace: 'shop', body: { metadata: { annotations } } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
}

function report(daemon: PollingDaemon): string {
  return daemon.logLines
    .filter((line) => /"level":"(warn|error)"/.test(line))
    .slice(-20)
    .join('');
}

describe('the daemon polling the sim', () => {
  it('turns a Service annotation into SLO queries, and reports log patterns and monitor states', async () => {
    const daemon = await startPollingDaemon({
      redisUrl: inject('redisUrl'),
      prefix,
      dataDir: tempDir(),
      env: {
        NIGHTSHIFT_LOG_PATTERNS_ENABLED: 'true',
        NIGHTSHIFT_LOG_PATTERN_SERVICES: 'checkout, catalog',
        NIGHTSHIFT_DATADOG_MONITORS_ENABLED: 'true',
        NIGHTSHIFT_DATADOG_MONITOR_TAGS: 'team:shop',
      },
      monitors: [{ id: 7, service: 'checkout', state: 'OK', priority: 1 }],
    });
    const redis = new Redis(inject('redisUrl'));
    try {
      const graph = daemon.app.graph();
      await daemon.at(45);
      // An operator declares checkout's objectives on its Kubernetes Service.
      await annotateService(daemon, {
        'nightshift.dev/slo-error-rate': '0.05',
        'nightshift.dev/tier': 'critical',
      });
      await waitFor(
        async () => (await graph.get(serviceId('checkout')))?.properties.sloErrorRate === 0.05,
        20_000,
      );
      // The log poller has read the baseline before the deploy.
      await logBaselineRead(redis, prefix, 'checkout');

      // The bad checkout deploy lands at 60 s; the watcher records it as it happens.
      await daemon.at(62);
      await deployRecorded(graph, 'shop/checkout:3.1.0');
      daemon.monitors.set(7, { id: 7, service: 'checkout', state: 'Alert', priority: 1 });
      await daemon.at(150);
      await waitFor(
        async () => (await alertWith(graph, 'datadog/monitor/7'))?.properties.status === 'firing',
        20_000,
      ).catch((error: unknown) => {
        throw new Error(`no monitor alert in the graph:\n${report(daemon)}`, { cause: error });
      });
      const monitor = await alertWith(graph, 'datadog/monitor/7');
      expect(monitor?.properties.severity).toBe('critical');
      // It AFFECTS the Service its `service:` tag names.
      await waitFor(async () =>
        (await graph.neighbors(monitor?.id ?? '', { direction: 'out', depth: 1 })).some(
          (reached) => reached.entity.id === serviceId('checkout'),
        ),
      );

      // The SLO query was derived from the annotation: critical tier, Datadog APM metrics.
      await waitFor(
        async () =>
          (await alertWith(graph, 'datadog/slo/checkout/error_rate'))?.properties.status === 'firing',
        20_000,
      ).catch((error: unknown) => {
        throw new Error(`no derived SLO alert in the graph:\n${report(daemon)}`, { cause: error });
      });
      expect((await alertWith(graph, 'datadog/slo/checkout/error_rate'))?.properties.severity).toBe(
        'critical',
      );
      // catalog has no objective: nothing was derived for it.
      expect(await alertWith(graph, 'datadog/slo/catalog/error_rate')).toBeUndefined();

      // New log templates after the checkout deploy, blamed on it, as notes on the Service.
      const patternNotes = async () =>
        (await graph.events(serviceId('checkout'), { kinds: ['note'], limit: 1000 })).filter(
          (event) => event.properties.signalKind === 'log_pattern',
        );
      await waitFor(async () => (await patternNotes()).length >= 2, 20_000).catch((error: unknown) => {
        throw new Error(`no log_pattern notes in the graph:\n${report(daemon)}`, { cause: error });
      });
      const summaries = (await patternNotes()).map((event) => event.summary ?? '');
      expect(summaries.some((summary) => summary.includes('payment token missing'))).toBe(true);
      expect(summaries.every((summary) => summary.includes('shop/checkout:3.1.0'))).toBe(true);

      // The monitor recovers: the same alert resolves.
      daemon.monitors.set(7, { id: 7, service: 'checkout', state: 'OK', priority: 1 });
      await waitFor(
        async () => (await alertWith(graph, 'datadog/monitor/7'))?.properties.status === 'resolved',
        20_000,
      );
    } finally {
      redis.disconnect();
      await daemon.stop();
    }
  }, 150_000);
});
