import type { SimRandom } from '../random.js';
import type { FaultModel, FaultRuntime, FaultWorld } from './faults/fault-model.js';
import { activeSince } from './faults/fault-model.js';
import { BUCKET_MS } from './metrics.js';
import type { ServiceModel } from './model.js';
import { servingAt, type PodRecord } from './pods.js';
import type { Samples } from './samples.js';
import type { SimLogLine } from './types.js';

/** What log generation reads. */
export interface LogInput {
  random: SimRandom;
  startMs: number;
  model(service: string): ServiceModel | undefined;
  pods(service: string): readonly PodRecord[];
  samplesAt(t: number): Samples;
  faults: ReadonlyArray<{ runtime: FaultRuntime; model: FaultModel }>;
  world: FaultWorld;
  /** Lines recorded as they happened (startup, crashes, scenario `logs:`), oldest first. */
  stored: readonly SimLogLine[];
}

const METHODS = ['GET', 'GET', 'GET', 'POST', 'PUT'];

function accessLine(
  input: LogInput,
  model: ServiceModel,
  pod: PodRecord,
  t: number,
  index: number,
  latency: number,
): string {
  const noise = (salt: string): number => input.random.noise(`${pod.name}:${salt}`, index);
  const method = METHODS[Math.floor(noise('method') * METHODS.length)] ?? 'GET';
  const path =
    noise('path') < 0.5
      ? `/api/${model.name}`
      : `/api/${model.name}/${Math.floor(noise('id') * 90_000) + 10_000}`;
  const duration = Math.max(1, Math.round(latency * (0.5 + noise('latency'))));
  const trace = Math.floor(noise('trace') * 0xffffffff)
    .toString(16)
    .padStart(8, '0');
  return `request completed method=${method} path=${path} status=200 duration_ms=${duration} trace_id=${trace}${(t % 1000).toString(16)}`;
}

function engineLine(model: ServiceModel, input: LogInput, pod: PodRecord, index: number): string | undefined {
  const noise = input.random.noise(`${pod.name}:engine`, index);
  switch (model.engine) {
    case 'postgres':
      return noise < 0.3
        ? `LOG:  checkpoint complete: wrote ${Math.floor(noise * 900) + 20} buffers (0.${Math.floor(noise * 9)}%)`
        : undefined;
    case 'mysql':
      return undefined;
    case 'redis':
    case 'memcached':
      return noise < 0.15 ? `1:M ${Math.floor(noise * 100)} changes in 60 seconds. Saving...` : undefined;
    default:
      return noise < 0.2 ? `consumer group ${model.name}-workers lag=${Math.floor(noise * 40)}` : undefined;
  }
}

function dependencyError(model: ServiceModel, blame: string | undefined, input: LogInput): string {
  const dependency = blame ? input.model(blame) : undefined;
  if (!dependency) return 'request failed status=500 error="internal error"';
  if (dependency.isDatabase)
    return `request failed status=500 error="could not acquire a connection from pool ${dependency.name}: timeout after 5000ms"`;
  if (dependency.isCache)
    return `request failed status=500 error="${dependency.name}:${dependency.port}: i/o timeout"`;
  return `request failed status=502 error="upstream ${dependency.name} returned 503 Service Unavailable"`;
}

function errorLine(input: LogInput, model: ServiceModel, samples: Samples, t: number): string {
  for (const { runtime, model: fault } of input.faults) {
    if (runtime.startedAt > t || activeSince(runtime, t) === undefined || !fault.errorLine) continue;
    const line = fault.errorLine(runtime, input.world, model.name, t);
    if (line) return line;
  }
  return dependencyError(model, samples.get(model.name)?.blame, input);
}

function podBucketLines(
  input: LogInput,
  model: ServiceModel,
  pod: PodRecord,
  t: number,
  samples: Samples,
): SimLogLine[] {
  const index = Math.floor((t - input.startMs) / BUCKET_MS);
  const lines: SimLogLine[] = [];
  const push = (offset: number, level: string, message: string): void => {
    lines.push({ t: t + offset, service: model.name, pod: pod.name, level, message });
  };
  const sample = samples.get(model.name);
  if (model.kind === 'service' || model.kind === 'external') {
    push(
      Math.floor(input.random.noise(`${pod.name}:offset`, index) * 4000),
      'info',
      accessLine(input, model, pod, t, index, sample?.latencyP50Ms ?? 50),
    );
  } else {
    const line = engineLine(model, input, pod, index);
    if (line) push(1000, 'info', line);
  }
  const errorRate = sample?.errorRate ?? 0;
  if (errorRate > model.baseline.errorRate * 3 + 0.005) {
    const count = Math.min(4, Math.floor(errorRate * 6 + input.random.noise(`${pod.name}:errors`, index)));
    for (let n = 0; n < count; n++) {
      push(
        4000 + n * 1500 + Math.floor(input.random.noise(`${pod.name}:error-offset:${n}`, index) * 1400),
        'error',
        errorLine(input, model, samples, t),
      );
    }
  }
  for (const { runtime, model: fault } of input.faults) {
    if (runtime.startedAt > t || activeSince(runtime, t) === undefined || !fault.podLines) continue;
    for (const [n, line] of fault.podLines(runtime, input.world, pod, t).entries())
      push(8000 + n * 100, line.level, line.message);
  }
  return lines;
}

/**
 * Log lines of a service in [fromMs, toMs], oldest first: one access (or engine) line per
 * serving pod per 10 s, error lines in proportion to the error rate citing their cause, lines
 * faults add, and the lines recorded as they happened. Deterministic.
 */
export function generateLogs(
  input: LogInput,
  service: string,
  fromMs: number,
  toMs: number,
  pod?: string,
): SimLogLine[] {
  const model = input.model(service);
  if (!model || toMs < fromMs) return [];
  const pods = input.pods(service).filter((candidate) => pod === undefined || candidate.name === pod);
  const lines: SimLogLine[] = [];
  const first = input.startMs + Math.floor((fromMs - input.startMs) / BUCKET_MS) * BUCKET_MS;
  for (let t = first; t <= toMs; t += BUCKET_MS) {
    const serving = pods.filter((candidate) => servingAt(candidate, t));
    if (serving.length === 0) continue;
    const samples = input.samplesAt(t);
    for (const candidate of serving) lines.push(...podBucketLines(input, model, candidate, t, samples));
  }
  for (const line of input.stored) {
    if (line.service === service && (pod === undefined || line.pod === pod)) lines.push(line);
  }
  return lines.filter((line) => line.t >= fromMs && line.t <= toMs).sort((a, b) => a.t - b.t);
}
