import { afterEach, describe, expect, inject, it } from 'vitest';
import { waitFor } from '../kit/daemon.js';
import { testPrefix } from '../kit/prefix.js';
import { tempDir } from '../kit/tmp.js';
import { makeSignal, openGraph, podRef, startLoopWorld } from './support/loop-world.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const HOLD_MS = 1_500;

async function world(name: string) {
  const graph = await openGraph(tempDir());
  const loop = await startLoopWorld({
    redisUrl: inject('redisUrl'),
    prefix: `${testPrefix(import.meta.filename)}-${name}`,
    graph,
    settings: { transientHoldMs: HOLD_MS, backoffMs: 50 },
  });
  cleanups.push(async () => {
    await loop.stop();
    await graph.close();
  });
  return loop;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

describe('a warning that may be a transient', () => {
  it('opens nothing when it resolves within the hold', async () => {
    const loop = await world('cleared');
    const pod = podRef('blip-1');
    const fired = makeSignal({ fingerprint: 'Blip', severity: 'warning', entities: [pod] });
    await loop.pipeline.submitSignal(fired);
    await sleep(300);
    await loop.pipeline.submitSignal(
      makeSignal({ fingerprint: 'Blip', status: 'resolved', severity: 'warning', entities: [pod] }),
    );
    await sleep(HOLD_MS + 1_500);
    expect(await loop.pipeline.incidents.list({ limit: 10 })).toEqual([]);
  });

  it('opens an incident once the hold is over when it still fires, and a critical at once', async () => {
    const loop = await world('kept');
    const warning = makeSignal({ fingerprint: 'Slow', severity: 'warning', entities: [podRef('slow-1')] });
    const submitted = Date.now();
    await loop.pipeline.submitSignal(warning);
    const critical = makeSignal({ fingerprint: 'Down', severity: 'critical', entities: [podRef('down-1')] });
    await loop.pipeline.submitSignal(critical);

    await waitFor(
      async () =>
        (await loop.pipeline.incidents.list({ limit: 10 })).some((incident) =>
          incident.signalIds.includes(critical.id),
        ),
      5_000,
      25,
    );
    const early = await loop.pipeline.incidents.list({ limit: 10 });
    expect(early.some((incident) => incident.signalIds.includes(warning.id))).toBe(false);

    await waitFor(
      async () =>
        (await loop.pipeline.incidents.list({ limit: 10 })).some((incident) =>
          incident.signalIds.includes(warning.id),
        ),
      HOLD_MS + 8_000,
      50,
    );
    expect(Date.now() - submitted).toBeGreaterThanOrEqual(HOLD_MS);
    const opened = (await loop.pipeline.incidents.list({ limit: 10 })).find((incident) =>
      incident.signalIds.includes(warning.id),
    );
    // Its clock starts when the signal arrived, not when the hold ended.
    expect(opened?.firstReceivedAt).toBe(warning.receivedAt);
  });

  it('does not hold a warning that carries its own trend: the forecast was watched for minutes', async () => {
    const loop = await world('forecast');
    const now = Date.now();
    const forecast = makeSignal({
      fingerprint: 'MemoryNearLimit',
      severity: 'warning',
      entities: [podRef('leak-1')],
      attributes: {
        trend: {
          points: Array.from({ length: 8 }, (_, index) => [now - (7 - index) * 15_000, 500 + 40 * index]),
          threshold: 900,
          direction: 'up',
        },
      },
    });
    const submitted = Date.now();
    await loop.pipeline.submitSignal(forecast);
    // Opened at once, and raised by detect: the line crosses its threshold within the
    // early-warning horizon (the raise is written just after the incident opens).
    await waitFor(
      async () =>
        (await loop.pipeline.incidents.list({ limit: 10 })).some(
          (incident) => incident.signalIds.includes(forecast.id) && incident.severity === 'error',
        ),
      HOLD_MS,
      25,
    );
    expect(Date.now() - submitted).toBeLessThan(HOLD_MS);
  });
});
