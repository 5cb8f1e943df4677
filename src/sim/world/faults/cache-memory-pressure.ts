import { addErrors, slowDown } from '../samples.js';
import type { FaultModelOf } from './fault-model.js';
import { actionTimes, dataText, nodeOfService, ramp, startJob } from './helpers.js';

const FILL_MS = 180_000;

/**
 * A batch job fills the cache: memory near maxmemory, evictions and fragmentation up, the
 * dependents' errors creep up from misses and OOM-command refusals. No catalog action clears
 * it (escalate naming the cache and the job); restarting the cache flushes it and the cold
 * cache makes the dependents worse for a while.
 */
export const cacheMemoryPressure: FaultModelOf<'cache_memory_pressure'> = {
  kind: 'cache_memory_pressure',
  subject: (runtime) => dataText(runtime, 'job', runtime.fault.job ?? `${runtime.fault.service}-warmup`),
  start(runtime, world) {
    const model = world.model(runtime.fault.service);
    const job = runtime.fault.job ?? `${runtime.fault.service}-warmup`;
    runtime.data.job = job;
    startJob(world, job, model?.namespace ?? 'default', undefined, 0.8);
    runtime.data.node = nodeOfService(world, job);
  },
  apply(runtime, world, t, samples) {
    const cache = samples.get(runtime.fault.service);
    const model = world.model(runtime.fault.service);
    if (!cache || !model) return;
    const flushes = actionTimes(
      runtime,
      world,
      ['k8s.rolloutRestart', 'k8s.deletePod'],
      runtime.fault.service,
    ).filter((at) => at <= t);
    const flush = flushes[flushes.length - 1];
    const pressure = ramp(t, runtime.startedAt, FILL_MS);
    let fill = 0.55 + 0.43 * pressure;
    let cold = 0;
    if (flush !== undefined) {
      fill = 0.1 + (0.98 - 0.1) * ramp(t, flush, 60_000);
      cold = 1 - ramp(t, flush, FILL_MS);
    }
    const max = model.maxMemoryMi ?? 1024;
    cache.cacheMemoryMi = max * fill;
    cache.cacheEvictions = 0.2 + 900 * Math.max(0, fill - 0.9) * 12;
    cache.cacheFragmentationRatio = 1.08 + 0.55 * pressure;
    cache.memoryMi = Math.max(cache.memoryMi, cache.cacheMemoryMi * 1.1 + 40);
    slowDown(cache, 1 + 2 * pressure);
    for (const dependent of model.dependents) {
      const sample = samples.get(dependent);
      addErrors(sample, 0.05 * Math.max(0, (fill - 0.85) / 0.13) + 0.2 * cold);
      slowDown(sample, 1 + 0.5 * pressure + cold);
    }
  },
  errorLine(runtime, world, service) {
    const model = world.model(runtime.fault.service);
    if (!model?.dependents.includes(service)) return undefined;
    return `request failed status=500 error="OOM command not allowed when used memory > 'maxmemory'." cache=${runtime.fault.service}`;
  },
  podLines(runtime, _world, pod, t) {
    if (pod.service !== runtime.fault.service || ramp(t, runtime.startedAt, FILL_MS) < 0.8) return [];
    return [
      {
        level: 'warn',
        message: `1:M WARNING used_memory is near maxmemory; evicting keys (policy allkeys-lru), mem_fragmentation_ratio=1.6`,
      },
    ];
  },
};
