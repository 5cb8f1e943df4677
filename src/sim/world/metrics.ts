import type { SimRandom } from '../random.js';
import type { FaultModel, FaultRuntime, FaultWorld } from './faults/fault-model.js';
import type { ServiceModel } from './model.js';
import { emptySample, type Sample, type Samples } from './samples.js';
import type { ServiceSnapshot } from './snapshots.js';

/** Width of one noise bucket: series are step functions at this resolution plus smooth terms. */
export const BUCKET_MS = 10_000;

/** What the metric pipeline reads. */
export interface MetricsInput {
  models: ReadonlyMap<string, ServiceModel>;
  /** Services, dependencies first. */
  order: readonly string[];
  random: SimRandom;
  startMs: number;
  snapshotAt(service: string, t: number): ServiceSnapshot | undefined;
  faults: ReadonlyArray<{ runtime: FaultRuntime; model: FaultModel }>;
  world: FaultWorld;
}

function bucket(input: MetricsInput, t: number): number {
  return Math.floor((t - input.startMs) / BUCKET_MS);
}

function baseSample(input: MetricsInput, model: ServiceModel, t: number): Sample {
  const index = bucket(input, t);
  const jitter = (metric: string): number => input.random.jitter(`${model.name}:${metric}`, index);
  const b = model.baseline;
  const dayPhase = ((t % 86_400_000) / 86_400_000) * 2 * Math.PI;
  const diurnal = 1 + 0.08 * Math.sin(dayPhase - Math.PI / 2);
  const sample = emptySample();
  sample.rps = b.rps * diurnal * (1 + 0.03 * jitter('rps'));
  sample.latencyP50Ms = b.latencyP50Ms * (1 + 0.04 * jitter('p50'));
  sample.latencyP99Ms = b.latencyP99Ms * (1 + 0.06 * jitter('p99'));
  sample.errorRate = b.errorRate * (1 + 0.4 * jitter('errors'));
  sample.memoryMi = b.memoryMi * (1 + 0.02 * jitter('memory'));
  const snapshot = input.snapshotAt(model.name, t);
  if (snapshot) {
    sample.restarts = snapshot.restarts;
    sample.replicasReady = snapshot.ready;
  }
  if (model.isCache && model.maxMemoryMi) {
    sample.cacheMemoryMaxMi = model.maxMemoryMi;
    sample.cacheMemoryMi = model.maxMemoryMi * 0.55 * (1 + 0.02 * jitter('cache-memory'));
    sample.cacheEvictions = Math.max(0, 0.2 + 0.2 * jitter('evictions'));
    sample.cacheFragmentationRatio = 1.08 + 0.02 * jitter('fragmentation');
  }
  if (model.isDatabase && model.maxConnections) sample.dbConnectionsMax = model.maxConnections;
  return sample;
}

function databaseConnections(input: MetricsInput, model: ServiceModel, t: number, samples: Samples): void {
  const sample = samples.get(model.name);
  if (!sample || !model.isDatabase) return;
  let inUse = 2;
  for (const client of model.dependents) {
    inUse += 4 * Math.max(1, samples.get(client)?.replicasReady ?? input.models.get(client)?.replicas ?? 1);
  }
  inUse *= 1 + 0.05 * input.random.jitter(`${model.name}:connections`, bucket(input, t));
  sample.dbConnectionsInUse = Math.min(sample.dbConnectionsMax, Math.round(inUse));
}

function saturate(model: ServiceModel, sample: Sample, snapshot: ServiceSnapshot | undefined): void {
  if (model.workload === 'none' || model.workload === 'Job') {
    if (model.workload === 'Job') sample.cpu = model.baseline.cpu;
    return;
  }
  const ready = snapshot?.ready ?? model.replicas;
  if (ready === 0) {
    sample.errorRate = model.replicas === 0 ? sample.errorRate : 1;
    sample.cpu = 0;
    return;
  }
  const b = model.baseline;
  const perPodLoad = b.rps > 0 ? (sample.rps / b.rps) * (Math.max(1, model.replicas) / ready) : 1;
  const demand = b.cpu * perPodLoad + sample.cpuSteal;
  sample.cpu = Math.min(model.limits.cpu, demand) - Math.min(sample.cpuSteal, model.limits.cpu * 0.5);
  const utilisation = demand / model.limits.cpu;
  if (utilisation > 0.75) {
    sample.latencyP99Ms *= 1 + (utilisation - 0.75) * 4;
    sample.latencyP50Ms *= 1 + (utilisation - 0.75) * 2;
  }
  if (utilisation > 1)
    sample.errorRate = Math.min(1, sample.errorRate + Math.min(0.9, (1 - 1 / utilisation) * 0.9));
}

function propagate(input: MetricsInput, model: ServiceModel, samples: Samples): void {
  const sample = samples.get(model.name);
  if (!sample) return;
  let worst = 0;
  for (const name of model.dependsOn) {
    const dependency = samples.get(name);
    const dependencyModel = input.models.get(name);
    if (!dependency || !dependencyModel) continue;
    const base = dependencyModel.baseline;
    const excessErrors = Math.max(0, dependency.errorRate - base.errorRate * 2);
    if (excessErrors > 0.005) {
      sample.errorRate = Math.min(1, sample.errorRate + excessErrors * 0.7);
      if (excessErrors > worst) {
        worst = excessErrors;
        sample.blame = name;
      }
    }
    sample.latencyP99Ms += Math.max(0, dependency.latencyP99Ms - base.latencyP99Ms * 1.2) * 0.8;
    sample.latencyP50Ms += Math.max(0, dependency.latencyP50Ms - base.latencyP50Ms * 1.2) * 0.8;
  }
}

/**
 * Every service's metrics at sim time `t`: baseline with deterministic noise, then each
 * fault's effect, then saturation from pods ready vs. load, then errors and latency flowing
 * from dependencies to their callers. A pure function of its input and `t`.
 */
export function computeSamples(input: MetricsInput, t: number): Samples {
  const samples: Samples = new Map();
  for (const name of input.order) {
    const model = input.models.get(name);
    if (model) samples.set(name, baseSample(input, model, t));
  }
  for (const name of input.order) {
    const model = input.models.get(name);
    if (model) databaseConnections(input, model, t, samples);
  }
  for (const { runtime, model } of input.faults)
    if (runtime.startedAt <= t) model.apply(runtime, input.world, t, samples);
  for (const name of input.order) {
    const model = input.models.get(name);
    const sample = samples.get(name);
    if (!model || !sample) continue;
    saturate(model, sample, input.snapshotAt(name, t));
    propagate(input, model, samples);
    sample.errorRate = Math.min(1, Math.max(0, sample.errorRate));
    sample.latencyP99Ms = Math.max(sample.latencyP99Ms, sample.latencyP50Ms);
  }
  return samples;
}
