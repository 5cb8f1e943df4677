import type { SimMetricName } from './types.js';

/** Every metric of one service at one time, plus bookkeeping the pipeline uses. */
export interface Sample extends Record<SimMetricName, number> {
  /** Extra cores per pod taken by something else on the node (noisy neighbours). */
  cpuSteal: number;
  /** The dependency whose failures explain most of this service's errors, if any. */
  blame?: string;
}

/** Samples of every service at one time, by service name. */
export type Samples = Map<string, Sample>;

/** An empty sample. */
export function emptySample(): Sample {
  return {
    rps: 0,
    latencyP50Ms: 0,
    latencyP99Ms: 0,
    errorRate: 0,
    cpu: 0,
    memoryMi: 0,
    restarts: 0,
    replicasReady: 0,
    dbConnectionsInUse: 0,
    dbConnectionsMax: 0,
    cacheMemoryMi: 0,
    cacheMemoryMaxMi: 0,
    cacheEvictions: 0,
    cacheFragmentationRatio: 0,
    cpuSteal: 0,
  };
}

/** Adds to a service's error rate, keeping it within [0, 1]. */
export function addErrors(sample: Sample | undefined, amount: number): void {
  if (!sample) return;
  sample.errorRate = Math.min(1, Math.max(0, sample.errorRate + amount));
}

/** Multiplies a service's latencies. */
export function slowDown(
  sample: Sample | undefined,
  p99Factor: number,
  p50Factor = 1 + (p99Factor - 1) / 2,
): void {
  if (!sample) return;
  sample.latencyP99Ms *= p99Factor;
  sample.latencyP50Ms *= p50Factor;
}
