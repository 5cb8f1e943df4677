import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { serviceId, sloId } from '../../src/graph/ids.js';
import { Correlator } from '../../src/loop/correlation.js';
import { fingerprintDigest } from '../../src/loop/incident-store.js';
import { NoiseFilter } from '../../src/loop/noise.js';
import type { Incident } from '../../src/loop/pipeline-types.js';
import type { Logger } from '../../src/shared/logger.js';
import { waitFor } from '../kit/daemon.js';
import { testPrefix } from '../kit/prefix.js';
import { tempDir } from '../kit/tmp.js';
import { makeSignal, openGraph, podRef, startLoopWorld, type LoopWorld } from './support/loop-world.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function world(
  settings: Parameters<typeof startLoopWorld>[0]['settings'] = {},
  logger?: Parameters<typeof startLoopWorld>[0]['logger'],
  prefix = testPrefix(import.meta.filename),
): Promise<LoopWorld> {
  const graph = await openGraph(tempDir());
  const started = await startLoopWorld({
    redisUrl: inject('redisUrl'),
    prefix,
    graph,
    script: { decide: () => ({ mode: 'approval', reason: 'hold' }) },
    settings,
    ...(logger ? { logger } : {}),
  });
  cleanups.push(async () => {
    await started.stop();
    await graph.close();
  });
  return started;
}

/** An info logger whose JSON lines are kept, parsed, in `lines`. */
function recordedLogger(): { lines: Array<Record<string, unknown>>; logger: Logger } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean))
        lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: pino({ level: 'info' }, sink) };
}

async function settled(loop: LoopWorld): Promise<void> {
  const names = ['ingest', 'detect', 'investigate', 'respond'];
  await waitFor(
    async () => {
      const counts = await Promise.all(
        loop.workers
          .filter((one) => names.includes(one.worker.name))
          .map(async (one) => {
            const { Queue } = await import('bullmq');
            const queue = new Queue(one.worker.name, {
              connection: loop.redis,
              prefix: one.worker.opts.prefix ?? '',
            });
            const result = await queue.getJobCounts('waiting', 'active', 'delayed');
            await queue.close();
            return (result.waiting ?? 0) + (result.active ?? 0) + (result.delayed ?? 0);
          }),
      );
      return counts.every((count) => count === 0);
    },
    10_000,
    50,
  );
}

describe('noise', () => {
  it('suppresses a flapping alert after K status changes and counts it in the digest', async () => {
    const loop = await world({ noise: { flapThreshold: 3, flapWindowMs: 60_000 } });
    const start = Date.now();
    for (let index = 0; index < 8; index++) {
      await loop.pipeline.submitSignal(
        makeSignal({
          fingerprint: 'Flappy',
          status: index % 2 === 0 ? 'firing' : 'resolved',
          observedAt: start + index,
        }),
      );
      await settled(loop);
    }
    const digest = await loop.pipeline.digest();
    // changes 1..7; from the 4th on there are more than 3, and of those the firings (4th, 6th) are dropped
    expect(digest.since.flapping).toBe(2);
    expect(digest.top).toHaveLength(1);
    const reset = await loop.pipeline.noise.digest({ reset: true });
    expect(reset.since.flapping).toBe(2);
    expect((await loop.pipeline.digest()).since.flapping).toBe(0);
    expect((await loop.pipeline.digest()).total.flapping).toBe(2);
    // the first two episodes opened incidents; once flapping, the re-firings opened none
    const incidents = await loop.pipeline.incidents.list();
    expect(incidents.map((one) => one.title)).toEqual(['Flappy is firing', 'Flappy is firing']);
  });

  it('judges a batch in order: an alert flapping within one delivery is caught signal by signal', async () => {
    const redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
    cleanups.push(async () => {
      await redis.quit();
    });
    const noise = new NoiseFilter({
      connection: redis,
      prefix: `${testPrefix(import.meta.filename)}:batch`,
      flapThreshold: 3,
      flapWindowMs: 60_000,
    });
    const start = Date.now();
    const batch = [
      ...Array.from({ length: 8 }, (_, index) =>
        makeSignal({
          fingerprint: 'FlappyBatch',
          status: index % 2 === 0 ? 'firing' : 'resolved',
          observedAt: start + index,
        }),
      ),
      makeSignal({ fingerprint: 'Steady', observedAt: start }),
      makeSignal({ fingerprint: 'AnEvent', kind: 'event', observedAt: start }),
    ];
    const verdicts = await noise.judgeAll(batch);
    // changes 1..7: the 5th and 7th signals (firings, 4th and 6th change) exceed 3; resolutions pass
    expect(verdicts.map((verdict) => verdict.suppressed)).toEqual([
      false,
      false,
      false,
      false,
      true,
      false,
      true,
      false,
      false,
      false,
    ]);
    expect(verdicts[4]).toMatchObject({
      reason: 'flapping',
      detail: '4 status changes within 60000 ms (limit 3)',
    });
    const digest = await noise.digest();
    expect(digest.since.flapping).toBe(2);
    expect(digest.top).toEqual([{ fingerprint: expect.any(String) as string, count: 2 }]);
    expect(await noise.lastStatus('FlappyBatch')).toBe('resolved');
  });

  it('logs a digest of what was suppressed on a schedule, each signal counted in one digest', async () => {
    const { lines, logger } = recordedLogger();
    const loop = await world({ digestEveryMs: 300 }, logger);
    await loop.pipeline.noise.addSilence({
      id: 'all-web',
      kind: 'silence',
      matchers: [{ name: 'team', value: 'web' }],
    });
    for (const index of [1, 2, 3])
      await loop.pipeline.submitSignal(makeSignal({ fingerprint: `Web${index}`, labels: { team: 'web' } }));
    await settled(loop);
    const digests = (): Array<Record<string, unknown>> => lines.filter((line) => line.msg === 'noise digest');
    await waitFor(() => digests().some((line) => line.suppressed === 3), 5_000, 50);
    const before = digests().length;
    await waitFor(() => digests().length > before, 5_000, 50);
    expect(digests().at(-1)).toMatchObject({ suppressed: 0, total: { silence: 3 } });
  });

  it('tidies the correlation index on the same schedule: resolved incidents never cleared, entries left behind', async () => {
    const { lines, logger } = recordedLogger();
    const prefix = testPrefix(import.meta.filename);
    const fp = `${prefix}:loop:corr:fp`;
    const entity = `${prefix}:loop:corr:entity`;
    const last = `${prefix}:loop:corr:last`;
    const loop = await world({ digestEveryMs: 300 }, logger, prefix);
    const correlator = new Correlator({ connection: loop.redis, prefix, graph: loop.graph });
    const hourAgo = Date.now() - 3_600_000;

    // An open incident, idle for an hour: left alone.
    await loop.pipeline.submitSignal(makeSignal({ fingerprint: 'StillOpen', entities: [podRef('open-1')] }));
    await settled(loop);
    const [open] = await loop.pipeline.incidents.list({ limit: 5 });
    if (!open) throw new Error('no incident opened');
    await loop.redis.zadd(last, hourAgo, open.key);
    // A resolved incident whose clearing a crash cut short: its entries are in the index again.
    const pod = podRef('cut-1');
    await loop.pipeline.submitSignal(makeSignal({ fingerprint: 'Cut', entities: [pod] }));
    await settled(loop);
    await loop.pipeline.submitSignal(makeSignal({ fingerprint: 'Cut', status: 'resolved', entities: [pod] }));
    let cut: Incident | undefined;
    await waitFor(
      async () => {
        cut = (await loop.pipeline.incidents.list({ limit: 5 })).find((one) => one.state === 'resolved');
        return cut !== undefined;
      },
      10_000,
      50,
    );
    await correlator.register(cut?.key ?? '', makeSignal({ fingerprint: 'Cut' }), [pod.id], hourAgo);
    // Entries an incident forgotten long ago had let go of.
    await correlator.register(
      'inc-gone',
      makeSignal({ fingerprint: 'LetGo' }),
      [podRef('gone-1').id],
      hourAgo,
    );
    await correlator.forget('inc-gone', [], []);
    expect(await loop.redis.hlen(fp)).toBe(3);

    await waitFor(async () => (await loop.redis.hlen(fp)) === 1, 5_000, 50);
    expect(await loop.redis.hgetall(fp)).toEqual({ [fingerprintDigest('StillOpen')]: open.key });
    expect(Object.values(await loop.redis.hgetall(entity))).toEqual([open.key]);
    expect(await loop.redis.zrange(last, 0, -1)).toEqual([open.key]);
    const tidied = lines.filter(
      (line) => line.msg === 'correlation index: entries of forgotten incidents removed',
    );
    const total = (field: string): number => tidied.reduce((sum, line) => sum + Number(line[field]), 0);
    expect([total('resolvedIncidents'), total('fingerprints'), total('entities')]).toEqual([1, 1, 1]);
  });

  it('drops signals matched by a silence, a maintenance window or a learned pattern, only while active', async () => {
    const now = Date.now();
    const loop = await world({
      noise: {
        silences: [
          {
            id: 'db-maintenance',
            kind: 'maintenance',
            matchers: [{ name: 'entity', value: '.*postgres.*', isRegex: true }],
            startsAt: now - 60_000,
            endsAt: now + 60_000,
          },
        ],
      },
    });
    await loop.pipeline.noise.addSilence({
      id: 'expired',
      kind: 'silence',
      matchers: [{ name: 'alertname', value: 'Expired' }],
      startsAt: now - 120_000,
      endsAt: now - 60_000,
    });
    await loop.pipeline.noise.addSilence({
      id: 'team',
      kind: 'silence',
      matchers: [{ name: 'team', value: 'web' }],
    });
    await loop.pipeline.noise.learnNoise(
      'disk',
      [{ name: 'alertname', value: 'DiskAlmostFull' }],
      'always self-heals',
    );
    await loop.pipeline.submitSignal(makeSignal({ fingerprint: 'M', entities: [podRef('postgres-0')] }));
    await loop.pipeline.submitSignal(
      makeSignal({ fingerprint: 'S', labels: { alertname: 'S', team: 'web' } }),
    );
    await loop.pipeline.submitSignal(makeSignal({ fingerprint: 'DiskAlmostFull' }));
    await loop.pipeline.submitSignal(makeSignal({ fingerprint: 'Expired', entities: [podRef('api-1')] }));
    await settled(loop);
    const digest = await loop.pipeline.digest();
    expect(digest.since).toEqual({ flapping: 0, silence: 1, maintenance: 1, learned: 1 });
    const incidents = await loop.pipeline.incidents.list();
    expect(incidents).toHaveLength(1);
    expect(incidents[0]?.title).toContain('Expired');
    expect(await loop.pipeline.noise.removeSilence('team')).toBe(true);
  });
});

describe('severity and early warning', () => {
  it('never opens an incident for an info signal such as the Watchdog heartbeat, but lets one join', async () => {
    const loop = await world({});
    await loop.pipeline.submitSignal(
      makeSignal({ fingerprint: 'Watchdog', severity: 'info', entities: [podRef('api-1')] }),
    );
    await settled(loop);
    expect(await loop.pipeline.incidents.list()).toHaveLength(0);
    await loop.pipeline.submitSignal(makeSignal({ fingerprint: 'Down', entities: [podRef('api-1')] }));
    await settled(loop);
    await loop.pipeline.submitSignal(
      makeSignal({ fingerprint: 'Note', severity: 'info', entities: [podRef('api-1')] }),
    );
    await settled(loop);
    const incidents = await loop.pipeline.incidents.list();
    expect(incidents).toHaveLength(1);
    expect(incidents[0]?.signals.size).toBe(2);
  });

  it('raises a warning whose blast radius reaches a critical service, with the reason in the timeline', async () => {
    const loop = await world();
    const checkout = serviceId('checkout');
    const payments = serviceId('payments');
    await loop.graph.upsertEntities([
      { id: podRef('payments-db-0').id, kind: 'Pod', name: 'payments-db-0', source: 'test' },
      { id: payments, kind: 'Service', name: 'payments', source: 'test', properties: { tier: 'standard' } },
      { id: checkout, kind: 'Service', name: 'checkout', source: 'test', properties: { tier: 'critical' } },
    ]);
    await loop.graph.upsertRelationships([
      { kind: 'SELECTS', from: payments, to: podRef('payments-db-0').id, source: 'test' },
      { kind: 'CALLS', from: checkout, to: payments, source: 'test' },
    ]);
    await loop.pipeline.submitSignal(
      makeSignal({ fingerprint: 'SlowDisk', entities: [podRef('payments-db-0')] }),
    );
    await loop.pipeline.submitSignal(makeSignal({ fingerprint: 'Lonely', entities: [podRef('lonely-0')] }));
    let incidents: Incident[] = [];
    await waitFor(async () => (incidents = await loop.pipeline.incidents.list()).length === 2, 10_000, 50);
    const raised = incidents.find((one) => one.title.includes('SlowDisk'));
    const lonely = incidents.find((one) => one.title.includes('Lonely'));
    expect(raised?.severity).toBe('error');
    expect(raised?.notes.find((note) => note.what === 'severity-raised')?.reason).toMatch(
      /early warning: .*blast radius reaches critical-tier checkout/,
    );
    expect(lonely?.severity).toBe('warning');
    expect(lonely?.notes.some((note) => note.what === 'severity-raised')).toBe(false);
  });

  it('raises on SLO impact plus a critical tier to critical, and on a trend that crosses its threshold soon', async () => {
    const loop = await world();
    const checkout = serviceId('checkout');
    await loop.graph.upsertEntities([
      { id: checkout, kind: 'Service', name: 'checkout', source: 'test', properties: { tier: 'critical' } },
      { id: sloId('checkout-availability'), kind: 'SLO', name: 'checkout-availability', source: 'test' },
    ]);
    await loop.graph.upsertRelationships([
      { kind: 'DEPENDS_ON', from: sloId('checkout-availability'), to: checkout, source: 'test' },
    ]);
    const now = Date.now();
    const points = Array.from({ length: 10 }, (_, index) => [now - (9 - index) * 60_000, 50 + index * 4]);
    await loop.pipeline.submitSignal(
      makeSignal({
        fingerprint: 'Memory',
        kind: 'anomaly',
        entities: [podRef('cache-0')],
        attributes: { trend: { points, threshold: 100 } },
      }),
    );
    await loop.pipeline.submitSignal(
      makeSignal({
        fingerprint: 'Errors',
        severity: 'error',
        entities: [{ kind: 'Service', id: checkout, name: 'checkout' }],
      }),
    );
    let incidents: Incident[] = [];
    await waitFor(async () => (incidents = await loop.pipeline.incidents.list()).length === 2, 10_000, 50);
    const trend = incidents.find((one) => one.title.includes('Memory'));
    expect(trend?.severity).toBe('error');
    expect(trend?.notes.find((note) => note.what === 'severity-raised')?.reason).toMatch(
      /trend reaches its threshold 100 in \d+ min/,
    );
    const slo = incidents.find((one) => one.title.includes('Errors'));
    expect(slo?.severity).toBe('critical');
    expect(slo?.notes.find((note) => note.what === 'severity-raised')?.reason).toContain(
      'SLO checkout-availability',
    );
  });
});
