import { resolve } from 'node:path';
import type { Fault } from '../../src/sim/scenario/fault-schema.js';
import { loadEstate } from '../../src/sim/scenario/load.js';
import { parseScenario } from '../../src/sim/scenario/load.js';
import { R } from '../../src/sim/world/cluster.js';
import type { KubeObject } from '../../src/sim/world/kube-object.js';
import { applyTimelineAction } from '../../src/sim/world/timeline.js';
import type { SimMetricName } from '../../src/sim/world/types.js';
import { createWorld, type World } from '../../src/sim/world/world.js';

/** The repository's evals/ folder. */
export const EVALS_DIR = resolve(import.meta.dirname, '../../evals');

/** A fixed sim start, so runs are comparable. */
export const START = Date.UTC(2026, 2, 2, 9, 0, 0);

/** When the test fault starts. */
export const FAULT_AT = 60_000;

/**
 * A shop world whose scenario starts `fault` at 60 s; the clock is at the start and steps
 * only when the test advances it.
 */
export async function worldWithFault(
  fault: Record<string, unknown>,
  options: { seed?: number; dataDir?: string } = {},
): Promise<World> {
  const { estate } = loadEstate('shop', { evalsDir: EVALS_DIR });
  const scenario = parseScenario(
    {
      apiVersion: 'nightshift.dev/v1',
      kind: 'Scenario',
      name: `test-${String(fault.kind)}`,
      estate,
      seed: options.seed ?? 3,
      timeline: [{ at: `${FAULT_AT / 1000}s`, fault }],
    },
    { evalsDir: EVALS_DIR },
  );
  return createWorld({
    estate: scenario.estate,
    scenario,
    startMs: START,
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
  });
}

/** Moves the world to `seconds` after its start. */
export async function at(world: World, seconds: number): Promise<void> {
  await world.advanceTo(world.startedAt() + seconds * 1000);
}

/** The mean of a metric over [fromSeconds, toSeconds] after the start, sampled every 5 s. */
export function mean(
  world: World,
  service: string,
  metric: SimMetricName,
  fromSeconds: number,
  toSeconds: number,
): number {
  const points = world.series(
    service,
    metric,
    world.startedAt() + fromSeconds * 1000,
    world.startedAt() + toSeconds * 1000,
    5_000,
  );
  if (points.length === 0)
    throw new Error(`no ${metric} points for ${service} in [${fromSeconds}, ${toSeconds}] s`);
  return points.reduce((sum, point) => sum + point.value, 0) / points.length;
}

/** Applies an action through the world's Kubernetes API and flag paths, as the timeline does. */
export function act(
  world: World,
  kind: Fault['kind'] extends never ? never : string,
  target: string,
  extra: { replicas?: number; value?: boolean | string | number } = {},
): void {
  applyTimelineAction(world, { kind: kind as never, target, by: 'test', ...extra });
}

/** The Pod objects of a service as the API serves them. */
export function podObjects(world: World, service: string): KubeObject[] {
  return world.cluster.store.list(R.pods).filter((pod) => pod.metadata.labels?.app === service);
}

/** Container waiting reasons of a service's pods. */
export function waitingReasons(world: World, service: string): string[] {
  return podObjects(world, service).flatMap((pod) => {
    const statuses =
      (pod.status as { containerStatuses?: Array<{ state?: { waiting?: { reason?: string } } }> })
        .containerStatuses ?? [];
    return statuses
      .map((status) => status.state?.waiting?.reason)
      .filter((reason): reason is string => reason !== undefined);
  });
}

/** The state of the first fault. */
export function fault(world: World): ReturnType<World['faults']>[number] {
  const state = world.faults()[0];
  if (!state) throw new Error('no fault started');
  return state;
}
