/** What the two loop benches share: their alert signals, their dependencies and their flags. */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { k8sId } from '../src/graph/ids.js';
import type { GraphStore } from '../src/graph/store.js';
import { writeSignal } from '../src/ingest/graph-writer.js';
import { signalId, type Signal } from '../src/ingest/signal.js';
import type { InvestigationInput, LoopDeps } from '../src/loop/pipeline-types.js';
import { systemClock } from '../src/shared/clock.js';

/** A flag the bench cannot run with. */
export class UsageError extends Error {}

/** A positive whole number from the flag `--name`, or a `UsageError` naming the flag. */
export function positiveWholeNumber(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1)
    throw new UsageError(`--${name} must be a positive whole number`);
  return value;
}

/** A whole number of zero or more from the flag `--name`, or a `UsageError` naming the flag. */
export function wholeNumber(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw new UsageError(`--${name} must be a whole number`);
  return value;
}

/** Runs a bench; a `UsageError` (or a flag parseArgs refuses) is one line on stderr and exit code 2. */
export async function runBench(main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (error) {
    const usage =
      error instanceof UsageError ||
      (error instanceof Error && String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS'));
    if (!usage) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exitCode = 2;
  }
}

/**
 * Alert `index` of run `run`, received at `now`: alerts `perIncident` apart in index share a pod,
 * so each group of `perIncident` is one alert group (and one incident).
 */
export function benchSignal(run: string, index: number, perIncident: number, now: number): Signal {
  const fingerprint = `bench-${run}-${index}`;
  const pod = `bench-${run}-${Math.floor(index / perIncident)}`;
  return {
    v: 1,
    id: signalId('alertmanager', fingerprint, 'firing', now),
    source: 'alertmanager',
    kind: 'alert',
    fingerprint,
    status: 'firing',
    severity: 'warning',
    entities: [
      { kind: 'Pod', id: k8sId('bench', 'shop', 'Pod', pod), name: pod, namespace: 'shop', cluster: 'bench' },
    ],
    observedAt: now,
    receivedAt: now,
    summary: `${pod} is down (${index % perIncident})`,
    attributes: { labels: { alertname: `PodDown${index % perIncident}` } },
    raw: { source: 'bench', digest: `sha256:${createHash('sha256').update(fingerprint).digest('hex')}` },
  };
}

/** Alerts `from` … `to` - 1 of run `run`, received now: whole alert groups when `from` starts one. */
export function benchSignals(run: string, from: number, to: number, perIncident: number): Signal[] {
  const signals: Signal[] = [];
  for (let index = from; index < to; index++) signals.push(benchSignal(run, index, perIncident, Date.now()));
  return signals;
}

/** Deletes every key under `prefix`: what a bench leaves in Redis. */
export async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  const keys = await redis.keys(`${prefix}:*`);
  for (let index = 0; index < keys.length; index += 500) await redis.del(...keys.slice(index, index + 500));
}

/**
 * The benches' loop dependencies: signals go to `graph` through the daemon's own writer; the rest
 * is trivial (one restart proposed, the policy says autonomous, the action and its check succeed
 * at once), unless `investigator` returns an investigation to run instead of the trivial one (it
 * is asked at each call, so a bench can change it between phases). `onInvestigate` is told of
 * each investigation with the time of its first tool call (the trivial one: when it was called),
 * `onLearn` of each learn.
 */
export function benchDeps(
  graph: GraphStore,
  hooks: {
    investigator?: () => LoopDeps['investigate'] | undefined;
    onInvestigate?: (input: InvestigationInput, at: number) => void;
    onLearn?: () => void;
  } = {},
): LoopDeps {
  return {
    persistSignal: (signal) => writeSignal(graph, signal, { clock: systemClock }),
    investigate: async (input, signal, current) => {
      const real = hooks.investigator?.();
      if (real) {
        const result = await real(input, signal, current);
        if (result.firstToolCallAt !== undefined) hooks.onInvestigate?.(input, result.firstToolCallAt);
        return result;
      }
      const at = Date.now();
      hooks.onInvestigate?.(input, at);
      return {
        proposals: [
          {
            action: 'rollout-restart',
            target: { kind: 'Deployment', name: 'bench' },
            params: {},
            rationale: 'bench',
          },
        ],
        report: { markdown: '', json: null },
        firstToolCallAt: at,
      };
    },
    respond: () => Promise.resolve({ mode: 'autonomous', reason: 'bench' }),
    execute: () => Promise.resolve({ outcome: 'done', detail: null }),
    verify: () => Promise.resolve({ ok: true, detail: null }),
    escalate: () => Promise.resolve(),
    learn: () => {
      hooks.onLearn?.();
      return Promise.resolve();
    },
  };
}
