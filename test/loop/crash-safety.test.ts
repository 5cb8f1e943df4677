import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createQueueSink } from '../../src/ingest/queue-sink.js';
import type { Signal } from '../../src/ingest/signal.js';
import { incidentKeyFor } from '../../src/loop/correlation.js';
import { IncidentStore } from '../../src/loop/incident-store.js';
import type { Incident } from '../../src/loop/pipeline-types.js';
import { systemClock } from '../../src/shared/clock.js';
import { waitFor } from '../kit/daemon.js';
import { testPrefix } from '../kit/prefix.js';
import {
  connect,
  effectCounts,
  executeCalls,
  makeSignal,
  openGraph,
  podRef,
  type Effect,
} from './support/loop-world.js';

/**
 * One replica holds eight incidents, each stopped at a different point (inside the ingest graph
 * write, after detect, investigate, respond, execute, verify or learn recorded its step, and
 * inside execute after its effect), and is killed with SIGKILL. A fresh replica must carry every
 * incident to the end with each effect done exactly once.
 */
const prefix = testPrefix(import.meta.filename);
const dataDir = mkdtempSync(join(tmpdir(), 'nightshift-loop-crash-'));
const points = [
  'ingest',
  'detect',
  'investigate',
  'respond',
  'execute',
  'verify',
  'learn',
  'in-doubt',
] as const;
type Point = (typeof points)[number];
const signals = new Map<Point, Signal>();
const children: ChildProcess[] = [];
const finals = new Map<Point, Incident | null>();
const counts = new Map<Point, Record<Effect, number>>();
const calls = new Map<Point, number>();
let redis: Redis;

function replica(holds: Record<string, string>): { child: ChildProcess; lines: string[] } {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'test/fixtures/loop-worker-process.ts',
      inject('redisUrl'),
      prefix,
      dataDir,
      JSON.stringify(holds),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  children.push(child);
  const lines: string[] = [];
  child.stderr?.on('data', (chunk: Buffer) => lines.push(...chunk.toString().trim().split('\n')));
  return { child, lines };
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once('exit', () => resolve()));
}

beforeAll(async () => {
  redis = connect(inject('redisUrl'));
  const holds: Record<string, string> = {};
  for (const point of points) {
    const signal = makeSignal({ fingerprint: `Crash-${point}`, entities: [podRef(`crash-${point}`)] });
    signals.set(point, signal);
    const key = incidentKeyFor(signal);
    if (point === 'ingest') holds[signal.id] = 'ingest';
    else if (point === 'in-doubt') holds[`in-doubt:${key}`] = '1';
    else holds[key] = `${point}-`;
  }
  const first = replica(holds);
  await waitFor(() => first.lines.includes('ready'), 20_000, 50);
  const sink = createQueueSink({ connection: redis, prefix });
  const holding = (): number => first.lines.filter((line) => line.startsWith('holding')).length;
  // One delivery per incident, so each is its own ingest job and stops on its own.
  for (const signal of signals.values()) await sink.accept([signal], { channel: 'test' });
  await waitFor(() => holding() === points.length, 20_000, 50);
  await sink.close();
  first.child.kill('SIGKILL');
  await exited(first.child);

  const second = replica({});
  await waitFor(() => second.lines.includes('ready'), 20_000, 50);
  await waitFor(
    async () => {
      for (const signal of signals.values()) {
        if ((await effectCounts(redis, prefix, incidentKeyFor(signal))).learn < 1) return false;
      }
      return true;
    },
    25_000,
    100,
  );
  // Give a wrongly repeated step a moment to show up before counting.
  await new Promise((resolve) => setTimeout(resolve, 500));
  second.child.kill('SIGTERM');
  await exited(second.child);
  expect(second.lines).toContain('done');

  const graph = await openGraph(dataDir);
  const store = new IncidentStore({ graph, clock: systemClock });
  for (const [point, signal] of signals) {
    const key = incidentKeyFor(signal);
    finals.set(point, await store.get(key));
    counts.set(point, await effectCounts(redis, prefix, key));
    calls.set(point, await executeCalls(redis, prefix, key));
  }
  await graph.close();
}, 90_000);

afterAll(async () => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all(children.map(exited));
  redis.disconnect();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('a replica killed with SIGKILL mid-stage', () => {
  it.each(points)('continues an incident stopped at %s, with no effect done twice', (point) => {
    const incident = finals.get(point);
    expect(incident?.state).toBe('resolved');
    expect(incident?.transitions.map((entry) => entry.to)).toEqual([
      'investigating',
      'acting',
      'verifying',
      'resolved',
    ]);
    expect(counts.get(point)).toEqual({
      investigate: 1,
      respond: 1,
      execute: 1,
      verify: 1,
      escalate: 0,
      learn: 1,
    });
    // Killed after its step was recorded, execute is not even called again; killed inside the
    // call, it is called again with the same idempotency key and the action log stops a repeat.
    expect(calls.get(point)).toBe(point === 'in-doubt' ? 2 : 1);
  });
});
