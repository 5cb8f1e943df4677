import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { once } from 'node:events';
import { Queue } from 'bullmq';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createQueueSink, type QueueSink } from '../../src/ingest/queue-sink.js';
import {
  batchKey,
  INGEST_BATCH_MAX,
  INGEST_QUEUE,
  ingestJobSchema,
  ingestJobSignals,
} from '../../src/ingest/sink.js';
import type { Signal } from '../../src/ingest/signal.js';
import { createRedisConnection } from '../../src/integrations/redis.js';
import { silentLogger } from '../../src/shared/logger.js';
import { freePort } from '../kit/ports.js';
import { testPrefix } from '../kit/prefix.js';
import { startPrivateRedis } from '../kit/redis-setup.js';
import { fixture } from './fixtures.js';
import { genuineHeaders, post, webhookApp } from './webhook-kit.js';

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

interface SinkUnderTest {
  sink: QueueSink;
  /** Reads what is stored, over its own connection, as a worker would. */
  stored: () => Promise<Signal[]>;
  /** How many ingest jobs hold them. */
  jobs: () => Promise<number>;
  /** Forgets which signals were queued, as a crash between the add and the marks would. */
  forgetMarks: () => Promise<void>;
}

function sinkOn(url: string, options: { dedupeWindowMs?: number; timeoutMs?: number } = {}): SinkUnderTest {
  const prefix = testPrefix(import.meta.filename);
  const connection = createRedisConnection({ url }, 'producer', silentLogger());
  const sink = createQueueSink({ connection, prefix, ...options });
  cleanup.push(
    () => connection.disconnect(),
    () => sink.close(),
  );
  const withReader = async <T>(read: (reader: Queue) => Promise<T>): Promise<T> => {
    const readerConnection = createRedisConnection({ url }, 'client', silentLogger());
    const reader = new Queue(INGEST_QUEUE, { connection: readerConnection, prefix });
    try {
      return await read(reader);
    } finally {
      await reader.close();
      readerConnection.disconnect();
    }
  };
  return {
    sink,
    jobs: () => withReader(async (reader) => (await reader.getJobs(['waiting'])).length),
    async forgetMarks() {
      const client = createRedisConnection({ url }, 'client', silentLogger());
      try {
        await client.connect();
        const marks = [
          ...(await client.keys(`${prefix}:ingest:seen:*`)),
          ...(await client.keys(`${prefix}:ingest:dd:*`)),
        ];
        if (marks.length > 0) await client.del(...marks);
      } finally {
        client.disconnect();
      }
    },
    async stored() {
      const readerConnection = createRedisConnection({ url }, 'client', silentLogger());
      const reader = new Queue(INGEST_QUEUE, { connection: readerConnection, prefix });
      try {
        const jobs = await reader.getJobs(['waiting', 'active', 'completed', 'failed', 'delayed']);
        return jobs.flatMap((job) => {
          const data = ingestJobSchema.parse(job.data);
          expect(data.v).toBe(2);
          const signals = ingestJobSignals(data);
          expect(job.id).toBe(batchKey(signals));
          const [first] = signals;
          if (signals.length === 1 && first) expect(job.name).toBe(`${first.source}.${first.kind}`);
          return signals;
        });
      } finally {
        await reader.close();
        readerConnection.disconnect();
      }
    },
  };
}

async function postJson(
  app: ReturnType<typeof webhookApp>,
  name: 'alertmanager' | 'datadog',
  value: unknown,
) {
  const body = JSON.stringify(value);
  const response = await post(app, name, body, genuineHeaders(name, body));
  return {
    status: response.status,
    json: (await response.json()) as Record<string, unknown>,
    headers: response.headers,
  };
}

describe('the BullMQ signal sink on Redis', () => {
  it('answers 202 only with every signal durably queued, one {v: 2, signals} job per delivery', async () => {
    const { sink, stored, jobs } = sinkOn(inject('redisUrl'));
    const app = webhookApp({ sink });
    const group = structuredClone(fixture('alertmanager', 'kube-pod-crash-looping-firing').body) as {
      alerts: Array<Record<string, unknown>>;
    };
    const first = group.alerts[0] as { labels: Record<string, string>; fingerprint: string };
    group.alerts.push(
      {
        ...first,
        fingerprint: 'b0000000000000b1',
        labels: { ...first.labels, pod: 'payment-processing-worker-747ccfb9db-aaaaa' },
      },
      {
        ...first,
        fingerprint: 'b0000000000000b2',
        labels: { ...first.labels, pod: 'payment-processing-worker-747ccfb9db-bbbbb' },
      },
    );
    const response = await postJson(app, 'alertmanager', group);
    expect(response).toMatchObject({ status: 202, json: { accepted: 3, deduplicated: 0 } });
    const signals = await stored();
    expect(signals.map((signal) => signal.fingerprint).sort()).toEqual([
      'a38bd979bba359db',
      'b0000000000000b1',
      'b0000000000000b2',
    ]);
    for (const signal of signals) expect(signal.source).toBe('alertmanager');
    expect(await jobs()).toBe(1);
  });

  it('splits a batch larger than a job holds into several jobs, and a redelivery adds none even when the marks were lost', async () => {
    const { sink, stored, jobs, forgetMarks } = sinkOn(inject('redisUrl'));
    const base = fixture('alertmanager', 'kube-pod-crash-looping-firing').body as {
      alerts: Array<{ fingerprint: string; labels: Record<string, string> }>;
    };
    const first = base.alerts[0];
    if (!first) throw new Error('the fixture has no alert');
    const count = INGEST_BATCH_MAX + 20;
    const body = {
      ...base,
      alerts: Array.from({ length: count }, (_, index) => ({
        ...first,
        fingerprint: `c${String(index).padStart(15, '0')}`,
        labels: { ...first.labels, pod: `worker-${index}` },
      })),
    };
    const app = webhookApp({ sink });
    expect((await postJson(app, 'alertmanager', body)).json).toEqual({ accepted: count, deduplicated: 0 });
    expect(await jobs()).toBe(2);
    await forgetMarks();
    expect((await postJson(app, 'alertmanager', body)).status).toBe(202);
    expect(await jobs()).toBe(2);
    expect(new Set((await stored()).map((signal) => signal.fingerprint)).size).toBe(count);
  });

  it('queues a redelivered body once, drops repeats of fingerprint and status in the window, and lets transitions through', async () => {
    const { sink, stored } = sinkOn(inject('redisUrl'));
    const app = webhookApp({ sink });
    const triggered = fixture('datadog', 'monitor-triggered').body as Record<string, unknown>;
    const recovered = fixture('datadog', 'monitor-recovered').body as Record<string, unknown>;

    expect((await postJson(app, 'datadog', triggered)).json).toEqual({ accepted: 1, deduplicated: 0 });
    expect((await postJson(app, 'datadog', triggered)).status).toBe(202);
    const renotified = {
      ...triggered,
      id: '7654321098765439999',
      transition: 'Renotify',
      date: '1767262000000',
    };
    expect((await postJson(app, 'datadog', renotified)).json).toEqual({ accepted: 0, deduplicated: 1 });
    expect((await postJson(app, 'datadog', recovered)).json).toEqual({ accepted: 1, deduplicated: 0 });
    const again = {
      ...triggered,
      id: '7654321098765438888',
      cycleKey: '9000000000000000001',
      date: '1767263000000',
    };
    expect((await postJson(app, 'datadog', again)).json).toEqual({ accepted: 1, deduplicated: 0 });
    const signals = await stored();
    expect(signals).toHaveLength(3);
    expect(signals.filter((signal) => signal.status === 'firing')).toHaveLength(2);
    expect(signals.filter((signal) => signal.status === 'resolved')).toHaveLength(1);
  });

  it('queues a repeat again once the window has passed', async () => {
    const { sink } = sinkOn(inject('redisUrl'), { dedupeWindowMs: 300 });
    const app = webhookApp({ sink });
    const triggered = fixture('datadog', 'monitor-triggered').body as Record<string, unknown>;
    expect((await postJson(app, 'datadog', triggered)).json).toEqual({ accepted: 1, deduplicated: 0 });
    const later = { ...triggered, id: '1', date: '1767262900000', cycleKey: 'c2' };
    expect((await postJson(app, 'datadog', later)).json).toEqual({ accepted: 0, deduplicated: 1 });
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect((await postJson(app, 'datadog', later)).json).toEqual({ accepted: 1, deduplicated: 0 });
  });

  it('never queues a signal twice when a batch is retried', async () => {
    const { sink, stored } = sinkOn(inject('redisUrl'), { dedupeWindowMs: 1 });
    const app = webhookApp({ sink });
    const body = fixture('alertmanager', 'kube-pod-not-ready-firing').body;
    for (let attempt = 0; attempt < 3; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      expect((await postJson(app, 'alertmanager', body)).status).toBe(202);
    }
    expect(await stored()).toHaveLength(1);
  });

  it('answers 503 with Retry-After when nothing listens where Redis should be', async () => {
    const { sink } = sinkOn(`redis://127.0.0.1:${await freePort()}`, { timeoutMs: 1_000 });
    const app = webhookApp({ sink });
    const started = Date.now();
    const response = await postJson(app, 'alertmanager', fixture('alertmanager', 'watchdog-firing').body);
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
    expect(response.json).toMatchObject({ error: { code: 'unavailable' } });
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('recovers when Redis comes up after the sink was built against it', async () => {
    const port = await freePort();
    const { sink, stored } = sinkOn(`redis://127.0.0.1:${port}`, { timeoutMs: 500 });
    const app = webhookApp({ sink });
    const body = fixture('alertmanager', 'watchdog-firing').body;
    expect((await postJson(app, 'alertmanager', body)).status).toBe(503);
    const redis = await startPrivateRedis(port);
    cleanup.push(() => {
      redis.process.kill('SIGKILL');
      rmSync(redis.dir, { recursive: true, force: true });
    });
    let status = 0;
    for (let attempt = 0; attempt < 40 && status !== 202; attempt++) {
      status = (await postJson(app, 'alertmanager', body)).status;
      if (status !== 202) await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(status).toBe(202);
    expect(await stored()).toHaveLength(1);
  });

  it('answers 503 while Redis is down and 202 again once it is back; every 202 is in Redis', async () => {
    let redis: { url: string; port: number; process: ChildProcess; dir: string } = await startPrivateRedis();
    cleanup.push(() => {
      redis.process.kill('SIGKILL');
      rmSync(redis.dir, { recursive: true, force: true });
    });
    const { sink, stored } = sinkOn(redis.url, { timeoutMs: 1_000 });
    const app = webhookApp({ sink });
    const bodies = ['kube-pod-crash-looping-firing', 'kube-pod-not-ready-firing', 'watchdog-firing'].map(
      (name) => fixture('alertmanager', name).body,
    );

    expect((await postJson(app, 'alertmanager', bodies[0])).status).toBe(202);
    expect(await stored()).toHaveLength(1);

    redis.process.kill('SIGKILL');
    await once(redis.process, 'exit');
    rmSync(redis.dir, { recursive: true, force: true });
    for (const body of bodies) {
      const response = await postJson(app, 'alertmanager', body);
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('5');
    }

    redis = await startPrivateRedis(redis.port);
    let status = 0;
    for (let attempt = 0; attempt < 40 && status !== 202; attempt++) {
      status = (await postJson(app, 'alertmanager', bodies[1])).status;
      if (status !== 202) await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(status).toBe(202);
    expect((await stored()).map((signal) => signal.fingerprint)).toEqual(['02d9413092785cdd']);
  });
});
