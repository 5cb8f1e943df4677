import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { describe, expect, inject, it } from 'vitest';
import type { EntityKind } from '../../src/graph/schema.js';
import type { GraphStore } from '../../src/graph/store.js';
import { serviceId } from '../../src/graph/ids.js';
import { waitFor } from '../kit/daemon.js';
import { testPrefix } from '../kit/prefix.js';
import { tempDir } from '../kit/tmp.js';
import { deployRecorded, logBaselineRead, startPollingDaemon } from './polling-daemon-kit.js';

const prefix = testPrefix(import.meta.filename);

/** The secret parts; none may be stored or logged anywhere. */
const CANARIES = {
  awsKey: 'AKIAQ7CANARY3X9ZT2LM',
  bearer: 'cnry0tok3n9f8e7d6c5b4a3f2e1d0c9b',
  urlPassword: 'Cnry-Pa55w0rd-71c3e9',
} as const;
const canaryText =
  `upstream auth failed with key ${CANARIES.awsKey}, ` +
  `header Authorization: Bearer ${CANARIES.bearer}, ` +
  `dsn postgres://orders:${CANARIES.urlPassword}@db.shop.internal:5432/orders`;

function alertmanagerBody(): string {
  return JSON.stringify({
    version: '4',
    groupKey: '{}:{alertname="CheckoutAuthFailures"}',
    truncatedAlerts: 0,
    status: 'firing',
    receiver: 'nightshift',
    groupLabels: { alertname: 'CheckoutAuthFailures' },
    commonLabels: { alertname: 'CheckoutAuthFailures', service: 'checkout', namespace: 'shop' },
    commonAnnotations: { description: canaryText },
    externalURL: 'http://alertmanager.test',
    alerts: [
      {
        status: 'firing',
        labels: {
          alertname: 'CheckoutAuthFailures',
          service: 'checkout',
          namespace: 'shop',
          severity: 'warning',
        },
        annotations: {
          summary: `checkout cannot reach payments with key ${CANARIES.awsKey}`,
          description: canaryText,
        },
        startsAt: '2026-03-02T09:02:00Z',
        endsAt: '0001-01-01T00:00:00Z',
        generatorURL: `http://admin:${CANARIES.urlPassword}@prometheus.test/graph?g0.expr=up`,
        fingerprint: 'c0ffee00canary01',
      },
    ],
  });
}

/** Every entity (with its properties) and every event the graph holds, as text. */
async function dumpGraph(graph: GraphStore): Promise<{ text: string; entities: number; events: number }> {
  const stats = await graph.stats();
  const parts: string[] = [];
  let entities = 0;
  let events = 0;
  for (const kind of Object.keys(stats.entitiesByKind) as EntityKind[]) {
    for (const entity of await graph.find({ kind, limit: 100_000 })) {
      entities += 1;
      parts.push(JSON.stringify(entity));
      const found = await graph.events(entity.id, { limit: 100_000 });
      events += found.length;
      parts.push(JSON.stringify(found));
      parts.push(JSON.stringify(await graph.neighbors(entity.id, { depth: 1, limit: 10_000 })));
    }
  }
  return { text: parts.join('\n'), entities, events };
}

/** Every key under the prefix and its whole value, whatever its type. */
async function dumpRedis(redis: Redis, keyPrefix: string): Promise<{ text: string; keys: number }> {
  const parts: string[] = [];
  let keys = 0;
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 1000);
    cursor = next;
    for (const key of batch) {
      keys += 1;
      const type = await redis.type(key);
      let value: unknown;
      if (type === 'string') value = await redis.get(key);
      else if (type === 'hash') value = await redis.hgetall(key);
      else if (type === 'list') value = await redis.lrange(key, 0, -1);
      else if (type === 'set') value = await redis.smembers(key);
      else if (type === 'zset') value = await redis.zrange(key, 0, -1, 'WITHSCORES');
      else if (type === 'stream') value = await redis.xrange(key, '-', '+');
      else value = `<${type}>`;
      parts.push(`${key} ${JSON.stringify(value)}`);
    }
  } while (cursor !== '0');
  return { text: parts.join('\n'), keys };
}

/** The text of every file under `dir` (graph journal and snapshots, audit log, postmortems). */
function dumpFiles(dir: string): string {
  const parts: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) parts.push(dumpFiles(path));
    else parts.push(readFileSync(path).toString('latin1'));
  }
  return parts.join('\n');
}

function leaks(text: string): string[] {
  return Object.entries(CANARIES)
    .filter(([, canary]) => text.includes(canary))
    .map(([name]) => name);
}

describe('secrets in what the daemon ingests', () => {
  it('never reach the graph, Redis or the logs: from an Alertmanager annotation and a Datadog log line', async () => {
    const dataDir = tempDir();
    const daemon = await startPollingDaemon({
      redisUrl: inject('redisUrl'),
      prefix,
      dataDir,
      env: {
        NIGHTSHIFT_LOG_PATTERNS_ENABLED: 'true',
        NIGHTSHIFT_LOG_PATTERN_SERVICES: 'checkout',
        NIGHTSHIFT_DATADOG_ERROR_BURSTS_ENABLED: 'true',
        NIGHTSHIFT_DATADOG_ERROR_BURST_SERVICES: 'checkout',
        NIGHTSHIFT_DATADOG_ERROR_BURST_MIN_ERRORS: '3',
      },
    });
    const redis = new Redis(inject('redisUrl'));
    let stopped = false;
    try {
      const graph = daemon.app.graph();
      await daemon.at(45);
      await logBaselineRead(redis, prefix, 'checkout');
      await daemon.at(62);
      await deployRecorded(graph, 'shop/checkout:3.1.0').catch((error: unknown) => {
        throw new Error(`the checkout deploy was not recorded:\n${daemon.problems()}`, { cause: error });
      });
      // The canary in the checkout logs, after the deploy: a new template, blamed on the deploy.
      await daemon.at(65);
      daemon.sim.world.addScenarioLogs(
        'checkout',
        Array.from({ length: 6 }, () => `ERROR ${canaryText}`),
        'error',
      );
      await daemon.at(150);

      const posted = await fetch(`${daemon.url}/webhooks/alertmanager`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${daemon.alertmanagerToken}` },
        body: alertmanagerBody(),
      });
      expect(posted.status).toBe(202);

      // Both reached the graph, with the secrets replaced.
      const alertSummary = async (): Promise<string> =>
        String(
          (await graph.find({ kind: 'Alert', where: { fingerprint: 'c0ffee00canary01' } }))[0]?.properties
            .summaryText ?? '',
        );
      await waitFor(async () => (await alertSummary()).includes('checkout cannot reach payments'), 20_000);
      expect(await alertSummary()).toContain('[REDACTED:aws-access-key]');
      const patternNote = async (): Promise<string | undefined> =>
        (await graph.events(serviceId('checkout'), { kinds: ['note'], limit: 1000 })).find(
          (event) =>
            event.properties.signalKind === 'log_pattern' &&
            (event.summary ?? '').includes('upstream auth failed'),
        )?.summary;
      await waitFor(async () => (await patternNote()) !== undefined, 20_000).catch(async (error: unknown) => {
        const state = await redis.hget(`${prefix}:poll-state:logs`, 'state');
        throw new Error(`no log pattern note; the log poller's state: ${state}\n${daemon.problems()}`, {
          cause: error,
        });
      });
      expect(await patternNote()).toContain('Bearer [REDACTED:authorization]');
      // Give the loop a moment to act on what arrived (incidents, investigation, journal).
      await new Promise((resolve) => setTimeout(resolve, 3_000));

      const inGraph = await dumpGraph(graph);
      expect(inGraph.entities).toBeGreaterThan(50);
      expect(inGraph.text).toContain('upstream auth failed');
      expect(leaks(inGraph.text)).toEqual([]);

      const inRedis = await dumpRedis(redis, prefix);
      expect(inRedis.keys).toBeGreaterThan(10);
      expect(inRedis.text).toContain('upstream auth failed');
      expect(leaks(inRedis.text)).toEqual([]);

      await daemon.stop();
      stopped = true;
      const afterStop = await dumpRedis(redis, prefix);
      expect(leaks(afterStop.text)).toEqual([]);
      const files = dumpFiles(join(dataDir, 'daemon'));
      expect(files).toContain('upstream auth failed');
      expect(leaks(files)).toEqual([]);
      const logged = daemon.logLines.join('');
      expect(logged).toContain('nightshift listening');
      expect(leaks(logged)).toEqual([]);
    } finally {
      redis.disconnect();
      if (!stopped) await daemon.stop();
    }
  }, 150_000);
});
