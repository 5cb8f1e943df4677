import { describe, expect, it } from 'vitest';
import type { Point } from '../../../src/detect/anomaly/index.js';
import { k8sId } from '../../../src/graph/ids.js';
import { memoryLimitBytes, parseQuantity } from '../../../src/ingest/kubernetes/quantity.js';
import {
  forecastMemory,
  headroomPoller,
  MEMORY_NEAR_LIMIT,
  sinceLastReset,
} from '../../../src/ingest/pollers/metrics/headroom-poller.js';
import { prometheusMetricSource } from '../../../src/ingest/pollers/prometheus/prometheus-api.js';
import { trendFromAttributes } from '../../../src/loop/severity.js';
import { ManualClock } from '../../../src/shared/clock.js';
import { silentLogger } from '../../../src/shared/logger.js';
import { buildTemplate } from '../../../src/sim/world/templates.js';
import { openTestGraph } from '../../kit/graph.js';
import { pollerWorld, pollOnce, START } from './poller-kit.js';

const MI = 2 ** 20;
const MINUTE = 60_000;

describe('Kubernetes quantities', () => {
  it.each([
    ['512Mi', 512 * MI],
    ['1.5Gi', 1.5 * 2 ** 30],
    ['500M', 500e6],
    ['129e6', 129e6],
    ['1k', 1000],
    ['100m', 0.1],
    ['2048', 2048],
    [4096, 4096],
  ])('%s is %d', (text, value) => {
    expect(parseQuantity(text)).toBeCloseTo(value, 6);
  });

  it.each(['', 'Mi', '12 Mi', '1.2.3Gi', '-5Mi', '5mi', null, {}])('%j is not a quantity', (text) => {
    expect(parseQuantity(text)).toBeUndefined();
  });

  it('takes the largest container limit, ignoring containers without one', () => {
    expect(
      memoryLimitBytes([
        { resources: { limits: { memory: '256Mi' } } },
        { resources: { limits: { cpu: '1' } } },
        { resources: { limits: { memory: '1Gi' } } },
        {},
      ]),
    ).toBe(2 ** 30);
    expect(memoryLimitBytes([{ resources: { limits: { cpu: '1' } } }])).toBeUndefined();
    expect(memoryLimitBytes(undefined)).toBeUndefined();
  });
});

/** `count` points every 15 s ending at `end`, from `value(index)`. */
function series(count: number, value: (index: number) => number, end = START): Point[] {
  return Array.from({ length: count }, (_, index): Point => [
    end - (count - 1 - index) * 15_000,
    value(index),
  ]);
}

describe('the memory forecast', () => {
  const limit = 1024 * MI;
  const options = { ratio: 0.9, horizonMs: 30 * MINUTE, fitWindowMs: 3 * MINUTE };

  it('warns of a steady climb before it reaches the line, and says when', () => {
    // 512Mi rising 32Mi a minute: 90% (921.6Mi) about 12.8 min after the first point.
    const climbing = series(13, (index) => (512 + 8 * index) * MI);
    const forecast = forecastMemory(climbing, limit, options);
    const eta = (forecast.crossesAt ?? 0) - START;
    expect(eta).toBeGreaterThan(9 * MINUTE);
    expect(eta).toBeLessThan(11 * MINUTE);
    expect(forecast.slopePerMs * MINUTE).toBeCloseTo(32 * MI, -4);
  });

  it('says nothing of a climb that reaches the line beyond the horizon, or of jitter', () => {
    const slow = series(13, (index) => (512 + 0.5 * index) * MI);
    expect(forecastMemory(slow, limit, options).crossesAt).toBeUndefined();
    // ±2% noise around half the limit, with a small upward lean: less growth than 5% of the limit.
    const jitter = series(13, (index) => (512 + (index % 2 === 0 ? 10 : -10) + index * 2) * MI);
    expect(forecastMemory(jitter, limit, { ...options, horizonMs: 10 * 24 * 60 * MINUTE }).crossesAt).toBe(
      undefined,
    );
  });

  it('counts memory already past the line, flat or not', () => {
    const full = series(13, () => 950 * MI);
    expect(forecastMemory(full, limit, options).crossesAt).toBe(START);
  });

  it('starts again after a restart: the climb before it does not count', () => {
    const sawtooth = series(13, (index) => (index < 10 ? 512 + 40 * index : 512 + 5 * (index - 10)) * MI);
    expect(sinceLastReset(sawtooth, limit)).toHaveLength(3);
    expect(forecastMemory(sawtooth, limit, options).crossesAt).toBeUndefined();
    expect(forecastMemory(sawtooth.slice(0, 10), limit, options).crossesAt).toBeDefined();
  });
});

describe('the headroom poller against the sim', () => {
  it('warns of the leaking service before its OOMKill, and again when the climb after the kill still crosses', async () => {
    const world = await pollerWorld({ vendors: true, scenario: 'memory-leak-recommendation' });
    try {
      const cluster = world.sim.world.clusterName();
      // What the Kubernetes ingest records: the limit comes from the sim's own pod template.
      const workloads = ['recommendation', 'cart', 'checkout'].map((name) => {
        const model = world.sim.world.models.get(name);
        if (!model) throw new Error(`no ${name} in the shop estate`);
        const template = buildTemplate(model, world.sim.world.estate, undefined);
        return {
          id: k8sId(cluster, 'shop', 'Deployment', name),
          kind: 'Workload' as const,
          name,
          source: 'kubernetes' as const,
          observedAt: START,
          properties: {
            workloadKind: 'Deployment',
            namespace: 'shop',
            app: name,
            memoryLimitBytes: memoryLimitBytes(template.spec.containers) ?? null,
          },
        };
      });
      await world.graph.upsertEntities([
        ...workloads,
        // A Job's memory is not forecast, nor is a workload without a limit.
        {
          id: k8sId(cluster, 'shop', 'Job', 'cart-import'),
          kind: 'Workload',
          name: 'cart-import',
          source: 'kubernetes',
          properties: { workloadKind: 'Job', memoryLimitBytes: 1024 * MI },
        },
        {
          id: k8sId(cluster, 'shop', 'Deployment', 'unlimited'),
          kind: 'Workload',
          name: 'unlimited',
          source: 'kubernetes',
        },
      ]);
      const leaking = workloads[0]?.id ?? '';
      const limit = Number(workloads[0]?.properties.memoryLimitBytes);
      expect(limit).toBeGreaterThan(0);

      const queries: string[] = [];
      const source = prometheusMetricSource({ url: world.sim.vendors?.urls.prometheus ?? '' });
      const poller = headroomPoller({
        metrics: {
          source: 'prometheus',
          series: (query, from, to, signal) => {
            queries.push(query);
            return source.series(query, from, to, signal);
          },
        },
        memoryQuery: 'max(container_memory_working_set_bytes{service="$service",namespace!="$namespace-x"})',
        fitWindowMs: 3 * MINUTE,
        horizonMs: 30 * MINUTE,
      });

      // The leak starts at 20 s: a minute later two points climb, too few for a forecast.
      await world.at(60);
      const early = await pollOnce(poller, poller.initialState(), world.context);
      expect(early.signals).toEqual([]);
      expect(queries.sort()).toEqual(
        ['cart', 'checkout', 'recommendation'].map(
          (name) => `max(container_memory_working_set_bytes{service="${name}",namespace!="shop-x"})`,
        ),
      );

      // Two minutes in, the climb is plain and the line reaches 90% well before the kill at 260 s.
      await world.at(150);
      const warned = await pollOnce(poller, early.nextState, world.context);
      expect(warned.signals).toHaveLength(1);
      const [warning] = warned.signals;
      expect(warning).toMatchObject({
        kind: 'alert',
        status: 'firing',
        severity: 'warning',
        source: 'prometheus',
        fingerprint: `prometheus/headroom/memory/${leaking}`,
        entities: [{ kind: 'Workload', id: leaking, name: 'recommendation' }],
        attributes: { labels: { alertname: MEMORY_NEAR_LIMIT }, limitBytes: limit, namespace: 'shop' },
      });
      expect(warning?.summary).toMatch(/^recommendation memory is at \d+% of its \d+Mi limit and climbing/);
      const crossesAt = Number(warning?.attributes.crossesAt);
      expect(crossesAt).toBeGreaterThan(START + 150_000);
      expect(crossesAt).toBeLessThan(START + 260_000);
      // Detect reads the fitted points back as the signal's trend: the early warning's evidence.
      const trend = warning ? trendFromAttributes(warning) : undefined;
      expect(trend?.threshold).toBe(Math.round(limit * 0.9));
      expect(trend?.points.length).toBeGreaterThanOrEqual(6);

      // The same state polled again says nothing new.
      expect((await pollOnce(poller, warned.nextState, world.context)).signals).toEqual([]);

      // The container is OOMKilled at 260 s and starts from its baseline. Two points of a new
      // climb say nothing either way: the kill is what was warned of, so the warning holds.
      await world.at(285);
      const held = await pollOnce(poller, warned.nextState, world.context);
      expect(held.signals).toEqual([]);
      expect(held.nextState.firing).toEqual(warned.nextState.firing);

      // Once the new climb has points enough it still crosses: warned of again, a new episode.
      await world.at(380);
      const again = await pollOnce(poller, held.nextState, world.context);
      expect(again.signals).toHaveLength(1);
      expect(again.signals[0]).toMatchObject({ status: 'firing', fingerprint: warning?.fingerprint });
      expect(again.signals[0]?.id).not.toBe(warning?.id);
      expect(Number(again.signals[0]?.attributes.crossesAt)).toBeGreaterThan(START + 380_000);
      expect(Number(again.signals[0]?.attributes.crossesAt)).toBeLessThan(START + 500_000);
      expect((await pollOnce(poller, again.nextState, world.context)).signals).toEqual([]);

      // Prometheus down: every query fails, the poll fails (and is retried) and the state stays.
      const down = headroomPoller({
        metrics: prometheusMetricSource({ url: 'http://127.0.0.1:1', timeoutMs: 2_000 }),
        memoryQuery: 'max(container_memory_working_set_bytes{service="$service"})',
      });
      await expect(down.poll(warned.nextState, world.context)).rejects.toThrow(
        /Prometheus query_range failed/,
      );
    } finally {
      await world.close();
    }
  });
});

describe('the headroom poller over a larger estate', () => {
  it('reads every workload in turn, and the ones it warned of at every poll', async () => {
    const graph = await openTestGraph({});
    try {
      const names = ['w1', 'w2', 'w3', 'w4', 'w5'];
      const ids = names.map((name) => k8sId('estate', 'shop', 'Deployment', name));
      await graph.upsertEntities(
        names.map((name, index) => ({
          id: ids[index] ?? '',
          kind: 'Workload' as const,
          name,
          source: 'kubernetes' as const,
          properties: { workloadKind: 'Deployment', namespace: 'shop', memoryLimitBytes: 1024 * MI },
        })),
      );
      const clock = new ManualClock(START);
      let leaking = true;
      const read: string[][] = [];
      const poller = headroomPoller({
        metrics: {
          source: 'prometheus',
          series: (query) => {
            read.at(-1)?.push(query);
            // w3 climbs 32Mi a minute toward 90% of its 1Gi limit while it leaks; the rest are flat.
            const climbing = query === 'w3' && leaking;
            return Promise.resolve(
              series(13, (index) => (climbing ? 512 + 8 * index : 512) * MI, clock.now()),
            );
          },
        },
        memoryQuery: '$workload',
        fitWindowMs: 3 * MINUTE,
        horizonMs: 30 * MINUTE,
        maxWorkloads: 2,
      });
      const context = { graph, clock, logger: silentLogger() };
      let state = poller.initialState();
      const poll = async (): Promise<string[]> => {
        read.push([]);
        clock.advance(MINUTE);
        const result = await pollOnce(poller, state, context);
        state = result.nextState;
        return result.signals.map((signal) => `${signal.status} ${signal.entities[0]?.name ?? ''}`);
      };

      expect(await poll()).toEqual([]);
      expect(await poll()).toEqual(['firing w3']);
      expect(await poll()).toEqual([]);
      expect(await poll()).toEqual([]);
      leaking = false;
      expect(await poll()).toEqual(['resolved w3']);
      expect(await poll()).toEqual([]);
      // Two a poll, in turn by id; w3, once warned of, at every poll until it cleared.
      expect(read.map((queries) => queries.sort())).toEqual([
        ['w1', 'w2'],
        ['w3', 'w4'],
        ['w3', 'w5'],
        ['w1', 'w3'],
        ['w2', 'w3'],
        ['w3', 'w4'],
      ]);
      expect(state.firing).toEqual({});
    } finally {
      await graph.close();
    }
  });
});

describe('the headroom poller through a restart', () => {
  it('holds its warning until the climb after a restart says where memory is heading', async () => {
    const graph = await openTestGraph({});
    try {
      const id = k8sId('estate', 'shop', 'Deployment', 'api');
      await graph.upsertEntities([
        {
          id,
          kind: 'Workload',
          name: 'api',
          source: 'kubernetes',
          properties: { workloadKind: 'Deployment', namespace: 'shop', memoryLimitBytes: 1024 * MI },
        },
      ]);
      const clock = new ManualClock(START);
      // Memory, one point a minute, oldest first; the test sets it before each poll.
      let memoryMi: number[] = [];
      const poller = headroomPoller({
        metrics: {
          source: 'prometheus',
          series: () =>
            Promise.resolve(
              memoryMi.map((value, index): Point => [
                clock.now() - (memoryMi.length - 1 - index) * MINUTE,
                value * MI,
              ]),
            ),
        },
        memoryQuery: '$workload',
        fitWindowMs: 30 * MINUTE,
        horizonMs: 30 * MINUTE,
      });
      const context = { graph, clock, logger: silentLogger() };
      let state = poller.initialState();
      const poll = async (): Promise<string[]> => {
        clock.advance(MINUTE);
        const result = await pollOnce(poller, state, context);
        state = result.nextState;
        return result.signals.map((signal) => signal.status ?? signal.kind);
      };
      const climb = Array.from({ length: 8 }, (_, index) => 600 + 40 * index);

      memoryMi = climb;
      expect(await poll()).toEqual(['firing']);
      // A restart: three points since say nothing, so the warning holds (it cleared here before).
      memoryMi = [...climb, 500, 502, 501];
      expect(await poll()).toEqual([]);
      expect(Object.keys(state.firing)).toEqual([id]);
      // Six flat points since the restart: memory is no longer heading for the limit.
      memoryMi = [...climb, 500, 502, 501, 503, 500, 502];
      expect(await poll()).toEqual(['resolved']);
      expect(state.firing).toEqual({});

      // Warned of again, then memory is no longer reported at all: nothing to hold on to.
      memoryMi = climb;
      expect(await poll()).toEqual(['firing']);
      memoryMi = [];
      expect(await poll()).toEqual(['resolved']);
    } finally {
      await graph.close();
    }
  });
});
