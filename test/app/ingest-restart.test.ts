import { Queue } from 'bullmq';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { EmbeddedGraphStore } from '../../src/graph/embedded/embedded-store.js';
import { systemClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { spawnDaemon, waitFor, type DaemonProcess } from '../kit/daemon.js';
import { testPrefix } from '../kit/prefix.js';
import { tempDir } from '../kit/tmp.js';

const prefix = testPrefix(import.meta.filename);
const running: DaemonProcess[] = [];
const token = 'restart-test-token-0123456789';

afterEach(async () => {
  for (const daemon of running.splice(0)) {
    if (daemon.child.exitCode === null) daemon.child.kill('SIGKILL');
    await daemon.exited;
  }
});

function body(batch: number): string {
  const alerts = Array.from({ length: 5 }, (_, index) => ({
    status: 'firing',
    labels: { alertname: `Restart${batch}x${index}`, service: 'restart-test', severity: 'warning' },
    annotations: { summary: `alert ${batch}.${index}` },
    startsAt: '2026-11-30T03:00:00Z',
    endsAt: '0001-01-01T00:00:00Z',
    generatorURL: 'http://prometheus.test/graph',
    fingerprint: `${batch.toString(16).padStart(8, '0')}${index.toString(16).padStart(8, '0')}`,
  }));
  return JSON.stringify({
    version: '4',
    groupKey: `{}:{batch="${batch}"}`,
    truncatedAlerts: 0,
    status: 'firing',
    receiver: 'nightshift',
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://alertmanager.test',
    alerts,
  });
}

describe('a daemon killed mid-stream', () => {
  it('loses no acknowledged signal: after a restart every 202-ed alert reaches the graph', async () => {
    const dataDir = tempDir();
    const env = {
      NIGHTSHIFT_PORT: '0',
      NIGHTSHIFT_QUEUE_PREFIX: prefix,
      NIGHTSHIFT_DATA_DIR: dataDir,
      NIGHTSHIFT_ALERTMANAGER_TOKEN: token,
      NIGHTSHIFT_INVESTIGATE_RETRIES: '0',
      REDIS_URL: inject('redisUrl'),
    };
    const first = await spawnDaemon({ env });
    running.push(first);
    let acknowledged = 0;
    const sending = (async () => {
      for (let batch = 0; batch < 400; batch++) {
        try {
          const response = await fetch(`${first.url}/webhooks/alertmanager`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
            body: body(batch),
          });
          if (response.status === 202) acknowledged += 5;
        } catch {
          return;
        }
      }
    })();
    await waitFor(() => acknowledged >= 100, 20_000, 10);
    first.child.kill('SIGKILL');
    await sending;
    await first.exited;
    expect(acknowledged).toBeGreaterThanOrEqual(100);

    const second = await spawnDaemon({ env });
    running.push(second);
    // The second daemon drains what the first acknowledged; its graph is read after it stops.
    const stopAndCount = async (): Promise<number> => {
      second.child.kill('SIGTERM');
      await second.exited;
      const graph = await EmbeddedGraphStore.open({
        dataDir: `${dataDir}/graph`,
        fsync: 'never',
        logger: silentLogger(),
        clock: systemClock,
      });
      try {
        return (await graph.stats()).entitiesByKind.Alert ?? 0;
      } finally {
        await graph.close();
      }
    };
    const queue = new Queue('ingest', { connection: { url: inject('redisUrl') }, prefix });
    try {
      await waitFor(
        async () => {
          const counts = await queue.getJobCounts('wait', 'active', 'delayed', 'prioritized');
          return Object.values(counts).every((count) => count === 0);
        },
        // A job the killed daemon held is handed over once its lock lapses and the stall check
        // runs (30 s each by default).
        100_000,
        250,
      ).catch(async (error: unknown) => {
        throw new Error(
          `the ingest queue did not drain: ${JSON.stringify(await queue.getJobCounts())}\n${second.output().slice(-3000)}`,
          { cause: error },
        );
      });
    } finally {
      await queue.close();
    }
    const inGraph = await stopAndCount();
    expect(inGraph).toBeGreaterThanOrEqual(acknowledged);
  }, 180_000);
});
