import { describe, expect, it } from 'vitest';
import { SIM_METRIC_NAMES } from '../../src/sim/world/types.js';
import type { World } from '../../src/sim/world/world.js';
import { at, worldWithFault } from './world-kit.js';

async function run(seed: number): Promise<World> {
  const world = await worldWithFault(
    { kind: 'connection_pool_exhaustion', service: 'checkout', datastore: 'postgres-orders' },
    { seed },
  );
  await at(world, 240);
  return world;
}

function fingerprint(world: World): string {
  const from = world.startedAt() - 600_000;
  const series = world.services().flatMap((service) =>
    SIM_METRIC_NAMES.map((metric) =>
      world
        .series(service.name, metric, from, world.now(), 15_000)
        .map((point) => `${point.t}:${point.value}`)
        .join(','),
    ),
  );
  const logs = world
    .logs('checkout', { fromMs: world.startedAt(), toMs: world.now() })
    .map((line) => `${line.t} ${line.pod} ${line.message}`);
  const pods = world.pods().map((pod) => `${pod.name}@${pod.node ?? '-'}:${pod.phase}:${pod.restarts}`);
  return JSON.stringify({ series, logs, pods });
}

describe('determinism', () => {
  it('gives identical series, logs and pods for the same scenario and seed, and different ones for another seed', async () => {
    const [first, second, other] = await Promise.all([run(11), run(11), run(12)]);
    const a = fingerprint(first);
    expect(a.length).toBeGreaterThan(10_000);
    expect(fingerprint(second)).toBe(a);
    expect(fingerprint(other)).not.toBe(a);
  });

  it('answers the same past series before and after the world moves on', async () => {
    const world = await run(5);
    const from = world.startedAt();
    const to = world.startedAt() + 200_000;
    const before = world.series('payments', 'errorRate', from, to, 10_000);
    await at(world, 400);
    expect(world.series('payments', 'errorRate', from, to, 10_000)).toEqual(before);
  });
});
