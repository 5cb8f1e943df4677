import type { FaultOf } from '../../scenario/fault-schema.js';
import { addErrors, slowDown } from '../samples.js';
import { isActive } from '../pods.js';
import type { FaultModelOf, FaultRuntime, FaultWorld } from './fault-model.js';
import { lastRollout } from './helpers.js';

type Leak = FaultRuntime<FaultOf<'memory_leak'>>;

function shape(
  runtime: Leak,
  world: FaultWorld,
): { base: number; limit: number; perMs: number; period: number } {
  const model = world.model(runtime.fault.service);
  const base = model?.baseline.memoryMi ?? 256;
  const limit = model?.limits.memoryMi ?? base * 2;
  const perMinute = runtime.fault.rateMiPerMin ?? (limit - base) / 4;
  const perMs = perMinute / 60_000;
  return { base, limit, perMs, period: (limit - base) / perMs };
}

/** Start of the current leak cycle at t: the fault's start or the last rollout after it. */
function anchor(runtime: Leak, world: FaultWorld, t: number): number {
  return Math.max(runtime.startedAt, lastRollout(world, runtime.fault.service, t) ?? runtime.startedAt);
}

/**
 * Memory grows steadily in every pod until the limit, then the container is OOMKilled and
 * restarts; latency rises with GC pressure and callers feel it. A rollout restart resets the
 * climb (relief for a while); the leak itself stays (escalation for the code fix).
 */
export const memoryLeak: FaultModelOf<'memory_leak'> = {
  kind: 'memory_leak',
  start() {
    // Nothing changes at the start: the leak is in code that has run for days.
  },
  mitigated(runtime, world) {
    const now = world.now();
    const { period } = shape(runtime, world);
    const last = lastRollout(world, runtime.fault.service, now);
    return last !== undefined && last >= runtime.startedAt && now - last < period * 0.75;
  },
  tick(runtime, world, now) {
    const { period, limit } = shape(runtime, world);
    const ooms = (runtime.data.ooms ??= {}) as Record<string, number>;
    const start = anchor(runtime, world, now);
    for (const pod of world.cluster.livePods(runtime.fault.service)) {
      if (!isActive(pod) || pod.containerStartedAt === undefined) continue;
      const expected = Math.floor((now - Math.max(start, pod.createdAt)) / period);
      if (expected > (ooms[pod.name] ?? 0)) {
        ooms[pod.name] = expected;
        world.cluster.restartContainer(pod, { reason: 'OOMKilled', exitCode: 137 }, [
          `WARN heap usage ${Math.round(limit * 0.97)}Mi of ${Math.round(limit)}Mi limit; GC pause ${420 + expected * 30}ms`,
        ]);
        if (pod.node) {
          world.cluster.events.record(
            { apiVersion: 'v1', kind: 'Node', name: pod.node },
            'Warning',
            'OOMKilling',
            `Memory cgroup out of memory: Killed process ${1000 + expected} (node) total-vm:${Math.round(limit * 1400)}kB, anon-rss:${Math.round(limit * 1024)}kB, oom_score_adj:${980}`,
            'kernel-monitor',
            pod.node,
          );
        }
      }
    }
  },
  apply(runtime, world, t, samples) {
    const sample = samples.get(runtime.fault.service);
    if (!sample) return;
    const { base, limit, perMs, period } = shape(runtime, world);
    const elapsed = (t - anchor(runtime, world, t)) % period;
    const memory = base + perMs * elapsed;
    sample.memoryMi = Math.max(sample.memoryMi, memory);
    const fill = (memory - base) / (limit - base);
    slowDown(sample, 1 + 3 * fill ** 3);
    if (elapsed < 10_000 && t - runtime.startedAt > period) addErrors(sample, 0.08);
  },
  podLines(runtime, world, pod, t) {
    const { base, limit, perMs, period } = shape(runtime, world);
    const memory = base + perMs * ((t - anchor(runtime, world, t)) % period);
    if (pod.service !== runtime.fault.service || memory < base + (limit - base) * 0.6) return [];
    return [
      {
        level: 'warn',
        message: `heap usage ${Math.round(memory)}Mi of ${Math.round(limit)}Mi limit; GC pause ${Math.round(50 + 400 * ((memory - base) / (limit - base)) ** 2)}ms`,
      },
    ];
  },
  errorLine(runtime, _world, service) {
    if (service !== runtime.fault.service) return undefined;
    return 'request failed status=503 error="upstream connect error or disconnect/reset before headers. reset reason: connection termination"';
  },
};
