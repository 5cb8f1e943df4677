import { once } from 'node:events';
import { rmSync } from 'node:fs';
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, inject, it } from 'vitest';
import {
  KUBERNETES_FENCE,
  createKubernetesDetector,
  findingsKey,
  type KubernetesDetector,
} from '../../src/app/agent/kubernetes-detector.js';
import type { ClusterSnapshot } from '../../src/detect/analyzers/snapshot.js';
import { RecordingSink } from '../../src/ingest/recording-sink.js';
import type { SignalSink } from '../../src/ingest/sink.js';
import { createRedisConnection } from '../../src/integrations/redis.js';
import { acceptFencedWrite } from '../../src/loop/leader.js';
import { ManualClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { MINUTE, NOW, node } from '../fixtures/detect/cluster.js';
import { waitFor } from '../kit/daemon.js';
import { testPrefix } from '../kit/prefix.js';
import { startPrivateRedis } from '../kit/redis-setup.js';

const CLUSTER = 'prod-eu1';
const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

/** A node whose kubelet stopped reporting: one critical `NodeNotReady` finding. */
const sick: ClusterSnapshot = {
  nodes: [
    node('worker-3', {
      conditions: {
        Ready: {
          status: 'Unknown',
          reason: 'NodeStatusUnknown',
          message: 'Kubelet stopped posting node status.',
          sinceAgoMs: 5 * MINUTE,
        },
      },
    }),
  ],
};
const healthy: ClusterSnapshot = { nodes: [node('worker-3')] };

/** A producer connection, as the daemon's (fails fast while Redis is away), closed after the test. */
async function connect(url = inject('redisUrl')): Promise<Redis> {
  const redis = createRedisConnection({ url }, 'producer', silentLogger());
  cleanup.push(() => redis.disconnect());
  await redis.connect();
  return redis;
}

/** A fresh key prefix whose keys are deleted after the test. */
function freshPrefix(redis: Redis): string {
  const prefix = testPrefix(import.meta.filename);
  cleanup.push(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
  });
  return prefix;
}

/** The world one leader term's detector sees: a Redis connection and prefix, a sink, a clock. */
interface Term {
  redis: Redis;
  prefix: string;
  sink: SignalSink;
  clock: ManualClock;
}

function detectorFor(term: Term, token: number): KubernetesDetector {
  return createKubernetesDetector({ ...term, cluster: CLUSTER, logger: silentLogger(), token });
}

/** Hands `snapshot` over and waits until it was handled. */
async function feed(detector: KubernetesDetector, snapshot: ClusterSnapshot): Promise<void> {
  detector.onSnapshot(snapshot);
  await detector.idle();
}

const statuses = (sink: RecordingSink): Array<string | undefined> =>
  sink.signals.map((signal) => signal.status);

describe('Kubernetes findings across a failover', () => {
  it('resolves a finding the dead leader raised once a new leader sees it gone', async () => {
    const redis = await connect();
    const sink = new RecordingSink();
    const term = { redis, prefix: freshPrefix(redis), sink, clock: new ManualClock(NOW) };
    const dying = detectorFor(term, 1);
    await feed(dying, sick);
    expect(statuses(sink)).toEqual(['firing']);
    const [fired] = sink.signals;

    // The leader dies without a word; the next one starts from Redis alone.
    term.clock.advance(MINUTE);
    const next = detectorFor(term, 2);
    await feed(next, healthy);
    expect(statuses(sink)).toEqual(['firing', 'resolved']);
    expect(sink.signals[1]).toMatchObject({
      fingerprint: fired?.fingerprint,
      summary: fired?.summary,
      entities: fired?.entities,
      observedAt: NOW + MINUTE,
    });
    expect(await redis.hlen(findingsKey(term.prefix, CLUSTER))).toBe(0);
  });

  it('keeps a remembered finding that is still present without raising it again, and resolves it later', async () => {
    const redis = await connect();
    const sink = new RecordingSink();
    const term = { redis, prefix: freshPrefix(redis), sink, clock: new ManualClock(NOW) };
    await feed(detectorFor(term, 1), sick);

    const next = detectorFor(term, 2);
    await feed(next, sick);
    expect(statuses(sink)).toEqual(['firing']);
    expect(next.active()).toBe(1);

    await feed(next, healthy);
    expect(statuses(sink)).toEqual(['firing', 'resolved']);
    expect(sink.signals[1]?.fingerprint).toBe(sink.signals[0]?.fingerprint);
    expect(next.active()).toBe(0);
  });

  it('loses nothing when the leader dies after the sink took a firing but before it was marked sent', async () => {
    const shared = await connect();
    const prefix = freshPrefix(shared);
    const recording = new RecordingSink();
    const clock = new ManualClock(NOW);
    // The dying leader's own connection drops the moment the sink has taken its batch.
    const dyingRedis = await connect();
    const crashing: SignalSink = {
      accept: async (signals, context) => {
        const report = await recording.accept(signals, context);
        dyingRedis.disconnect();
        return report;
      },
    };
    await feed(detectorFor({ redis: dyingRedis, prefix, sink: crashing, clock }, 1), sick);
    expect(statuses(recording)).toEqual(['firing']);

    const next = detectorFor({ redis: shared, prefix, sink: recording, clock }, 2);
    await feed(next, healthy);
    expect(statuses(recording)).toEqual(['firing', 'resolved']);
  });

  it('sends a resolution the sink refused on a later snapshot', async () => {
    const redis = await connect();
    const sink = new RecordingSink();
    const term = { redis, prefix: freshPrefix(redis), sink, clock: new ManualClock(NOW) };
    const detector = detectorFor(term, 1);
    await feed(detector, sick);
    sink.failNext();
    await feed(detector, healthy);
    expect(statuses(sink)).toEqual(['firing']);
    await feed(detector, healthy);
    expect(statuses(sink)).toEqual(['firing', 'resolved']);
    expect(await redis.hlen(findingsKey(term.prefix, CLUSTER))).toBe(0);
  });

  it('sends nothing while Redis is away, and the resolution once it is back', async () => {
    let server = await startPrivateRedis();
    cleanup.push(() => {
      server.process.kill('SIGKILL');
      rmSync(server.dir, { recursive: true, force: true });
    });
    const redis = await connect(server.url);
    const sink = new RecordingSink();
    const detector = detectorFor({ redis, prefix: 'ns-away', sink, clock: new ManualClock(NOW) }, 1);
    await feed(detector, sick);
    expect(statuses(sink)).toEqual(['firing']);

    server.process.kill('SIGKILL');
    await once(server.process, 'exit');
    rmSync(server.dir, { recursive: true, force: true });
    await feed(detector, healthy);
    await feed(detector, healthy);
    expect(statuses(sink)).toEqual(['firing']);

    server = await startPrivateRedis(server.port);
    await waitFor(
      async () => {
        await feed(detector, healthy);
        return statuses(sink).length === 2;
      },
      15_000,
      200,
    );
    expect(statuses(sink)).toEqual(['firing', 'resolved']);
  });
});

describe('Kubernetes findings and the fencing token', () => {
  it('a detector holding an old token sends nothing once a newer token has written; the current one sends', async () => {
    const redis = await connect();
    const sink = new RecordingSink();
    const term = { redis, prefix: freshPrefix(redis), sink, clock: new ManualClock(NOW) };
    const stale = detectorFor(term, 1);
    await stale.idle();
    expect(await acceptFencedWrite(redis, term.prefix, KUBERNETES_FENCE, 2)).toBe(true);

    await feed(stale, sick);
    expect(sink.signals).toEqual([]);
    expect(await redis.hlen(findingsKey(term.prefix, CLUSTER))).toBe(0);

    const current = detectorFor(term, 2);
    await feed(current, sick);
    expect(statuses(sink)).toEqual(['firing']);
    await feed(stale, healthy);
    expect(statuses(sink)).toEqual(['firing']);
  });

  it("a new leader's detector fences the old one out as soon as it is created, then resolves its finding", async () => {
    const redis = await connect();
    const sink = new RecordingSink();
    const term = { redis, prefix: freshPrefix(redis), sink, clock: new ManualClock(NOW) };
    const old = detectorFor(term, 1);
    await feed(old, sick);

    const next = detectorFor(term, 2);
    await next.idle();
    // The old leader has not noticed it was deposed: what it sees now goes nowhere.
    await feed(old, healthy);
    expect(statuses(sink)).toEqual(['firing']);
    expect(await redis.hlen(findingsKey(term.prefix, CLUSTER))).toBe(1);

    await feed(next, healthy);
    expect(statuses(sink)).toEqual(['firing', 'resolved']);
  });
});
