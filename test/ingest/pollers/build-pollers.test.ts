import { describe, expect, it } from 'vitest';
import { createPollers } from '../../../src/ingest/pollers/build-pollers.js';
import { datadogConfiguration } from '../../../src/ingest/pollers/datadog/datadog-api.js';
import { MemoryPollStateStore } from '../../../src/ingest/pollers/poll-state-store.js';
import { SIM_PROMETHEUS_TEMPLATES } from '../../../src/ingest/pollers/prometheus/prometheus-poller.js';
import { runPoll } from '../../../src/ingest/pollers/run-poll.js';
import { RecordingSink } from '../../../src/ingest/recording-sink.js';
import { silentLogger } from '../../../src/shared/logger.js';
import { Secret } from '../../../src/shared/secret.js';
import { pollerWorld } from './poller-kit.js';

describe('createPollers', () => {
  it('leaves out what lacks a client, and says why', () => {
    const built = createPollers(
      {
        datadog: {},
        logs: {},
        slack: {},
        prometheus: { url: 'http://127.0.0.1:1' },
        git: { repos: [] },
        headroom: { prometheusQuery: 'p', datadogQuery: 'd' },
      },
      { objectives: [{ name: 'checkout', slo: { errorRate: 0.01 } }] },
    );
    expect(built.pollers).toEqual([]);
    expect(built.skipped).toEqual([
      'datadog: Datadog is not enabled',
      'prometheus: no SLO queries and no templates to derive them',
      'logs: log patterns read Datadog logs, and Datadog is not enabled',
      'headroom: neither Prometheus nor Datadog is configured',
      'slack-mentions: no Slack message feed',
    ]);
  });

  it('builds the headroom poller on Prometheus or on Datadog, whichever is there', () => {
    const datadog = datadogConfiguration({
      baseUrl: 'http://127.0.0.1:1',
      apiKey: new Secret('a'),
      appKey: new Secret('b'),
    });
    const headroom = { prometheusQuery: 'p', datadogQuery: 'd', intervalMs: 30_000 };
    const onPrometheus = createPollers(
      { headroom: { ...headroom, prometheus: { url: 'http://127.0.0.1:1' } } },
      { objectives: [], datadog },
    );
    expect(onPrometheus.schedules).toEqual([{ poller: 'headroom', everyMs: 30_000 }]);
    const onDatadog = createPollers({ headroom }, { objectives: [], datadog });
    expect(onDatadog.schedules).toEqual([{ poller: 'headroom', everyMs: 30_000 }]);
    expect(onDatadog.skipped).toEqual([]);
  });

  it('every configured poller runs against the sim and reports the bad checkout deploy', async () => {
    const world = await pollerWorld({ vendors: true });
    try {
      const services = world.sim.world.services();
      const built = createPollers(
        {
          git: {
            repos: services
              .filter((service) => service.repo && service.repoPath)
              .map((service) => ({
                name: service.repo ?? '',
                path: service.repoPath ?? '',
                services: [service.name],
              })),
            intervalMs: 30_000,
          },
          datadog: {},
          prometheus: { url: world.sim.vendors?.urls.prometheus ?? '', templates: SIM_PROMETHEUS_TEMPLATES },
          logs: {},
        },
        {
          objectives: services,
          datadog: datadogConfiguration({
            baseUrl: world.sim.vendors?.urls.datadog ?? '',
            apiKey: new Secret('a'),
            appKey: new Secret('b'),
          }),
        },
      );
      expect(built.skipped).toEqual([]);
      expect(built.schedules).toEqual([
        { poller: 'git', everyMs: 30_000 },
        { poller: 'datadog', everyMs: 60_000 },
        { poller: 'prometheus', everyMs: 60_000 },
        { poller: 'logs', everyMs: 60_000 },
      ]);
      const sink = new RecordingSink();
      const dependencies = {
        graph: world.graph,
        sink,
        states: new MemoryPollStateStore(),
        clock: world.context.clock,
        logger: silentLogger(),
      };
      for (const seconds of [45, 180]) {
        await world.at(seconds);
        for (const poller of built.pollers) await runPoll(poller, dependencies);
      }
      const about = (source: string, kind: string) =>
        sink.signals.filter(
          (signal) =>
            signal.source === source &&
            signal.kind === kind &&
            signal.entities.some((ref) => ref.id === 'service:checkout'),
        );
      expect(about('git', 'change')).toHaveLength(1);
      expect(about('datadog', 'alert')).toHaveLength(1);
      expect(about('datadog', 'anomaly').length).toBeGreaterThanOrEqual(2);
      expect(about('prometheus', 'alert')).toHaveLength(1);
      expect(about('logs', 'log_pattern').length).toBeGreaterThanOrEqual(2);
      expect(sink.batches.map((batch) => batch.context.channel)).toEqual(
        expect.arrayContaining(['poll/git', 'poll/datadog', 'poll/prometheus', 'poll/logs']),
      );
    } finally {
      await world.close();
    }
  });
});
