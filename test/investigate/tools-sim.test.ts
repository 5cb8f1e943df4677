import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  EventDigest,
  PodLogs,
  PodSummary,
  RolloutHistory,
} from '../../src/investigate/tools/kubernetes.js';
import type { GitDiffOutput, GitLogOutput } from '../../src/investigate/tools/git.js';
import type { MetricOutput } from '../../src/investigate/tools/series.js';
import type { LogSearchOutput } from '../../src/investigate/tools/datadog.js';
import { startSimEstate, START, type SimEstate } from './sim-kit.js';

let estate: SimEstate;
beforeAll(async () => {
  estate = await startSimEstate({
    timeline: [
      { at: '60s', fault: { kind: 'bad_deploy', service: 'checkout', image: 'shop/checkout:3.1.0' } },
      { at: '60s', fault: { kind: 'memory_leak', service: 'cart' } },
    ],
  });
  await estate.sim.world.advanceTo(START + 420_000);
});
afterAll(async () => {
  await estate.stop();
});

const call = (tool: string, input: Record<string, unknown>) =>
  estate.tools.call(tool, input, { signal: new AbortController().signal, now: estate.clock.now() });

describe('read-only tools against the sim', () => {
  it('reads rollout history as ReplicaSets by revision, newest first', async () => {
    const { result } = await call('k8s_rollout_history', { namespace: 'shop', deployment: 'checkout' });
    const history = result.data as RolloutHistory;
    expect(result.status).toBe('ok');
    expect(history.revisions[0]).toMatchObject({ image: 'shop/checkout:3.1.0' });
    expect(history.revisions[0]?.revision).toBeGreaterThan(history.revisions[1]?.revision ?? 0);
    expect(history.revisions[1]?.image).toBe('shop/checkout:3.0.9');
    expect(history.currentRevision).toBe(history.revisions[0]?.revision);
  });

  it('lists pods, reads the previous log of an OOMKilled container, and counts events by reason', async () => {
    const pods = await call('k8s_list', { kind: 'Pod', namespace: 'shop', labelSelector: 'app=cart' });
    const items = (pods.result.data as { items: PodSummary[] }).items;
    expect(items.length).toBeGreaterThan(0);
    const restarted = items.find((pod) => pod.restarts > 0);
    expect(restarted?.lastTermination).toBe('OOMKilled');
    const logs = await call('k8s_pod_logs', {
      namespace: 'shop',
      pod: restarted?.name,
      previous: true,
      tailLines: 50,
    });
    expect(logs.result.status).toBe('ok');
    expect((logs.result.data as PodLogs).lines.join('\n')).toMatch(/heap usage/);
    const events = await call('k8s_events', { namespace: 'shop', sinceMinutes: 30 });
    expect(Object.keys((events.result.data as EventDigest).byReason).length).toBeGreaterThan(0);
    const analyzed = await call('k8s_analyze', { namespace: 'shop', labelSelector: 'app=cart' });
    expect(analyzed.result.summary).toMatch(/OOMKilled/);
    const node = await call('k8s_get', { kind: 'Node', name: 'node-a' });
    expect(node.result.data).toMatchObject({ kind: 'Node', name: 'node-a' });
    const missing = await call('k8s_get', { kind: 'Deployment', namespace: 'shop', name: 'nope' });
    expect(missing.result.status).toBe('no_data');
  });

  it('queries Prometheus and Datadog with a before/after split, and searches logs', async () => {
    const pivot = START + 60_000;
    const prometheus = await call('prometheus_query', {
      query: 'nightshift_sim_error_rate{service="checkout"}',
      fromMinutesAgo: 7,
      pivotMs: pivot,
    });
    const series = (prometheus.result.data as MetricOutput).series[0];
    expect(series?.after).toBeGreaterThan((series?.before ?? 1) * 5);
    const datadog = await call('datadog_metrics', {
      query: 'avg:nightshift.sim.memory_mi{service:cart}',
      fromMinutesAgo: 6,
    });
    expect((datadog.result.data as MetricOutput).series[0]?.max).toBeGreaterThan(
      (datadog.result.data as MetricOutput).series[0]?.min ?? 0,
    );
    const logs = await call('datadog_logs', { query: 'service:checkout status:error', fromMinutesAgo: 5 });
    expect((logs.result.data as LogSearchOutput).topMessages[0]?.message).toContain('version=3.1.0');
    const bad = await call('prometheus_query', { query: 'rate(nightshift_sim_rps[5m]', fromMinutesAgo: 5 });
    expect(bad.result.status).toBe('error');
  });

  it('reads the git log and diff between two deploys', async () => {
    const deploy = estate.sim.world.services().find((service) => service.name === 'checkout');
    expect(deploy?.repo).toBe('shop/checkout');
    const log = await call('git_log', { repo: 'shop/checkout', maxCount: 2 });
    const commits = (log.result.data as GitLogOutput).commits;
    expect(commits).toHaveLength(2);
    const diff = await call('git_diff', {
      repo: 'shop/checkout',
      from: commits[1]?.sha,
      to: commits[0]?.sha,
    });
    const output = diff.result.data as GitDiffOutput;
    expect(output.files.map((file) => file.file)).toContain('deploy/values.yaml');
    expect(output.patch).toContain('3.1.0');
    const refused = await call('git_diff', { repo: 'shop/checkout', from: '--output=out.txt', to: 'HEAD' });
    expect(refused.result.status).toBe('error');
    expect(estate.sim.world.requestLog.writes('kubernetes')).toEqual([]);
  });
});
