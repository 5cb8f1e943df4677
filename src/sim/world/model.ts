import type { Estate, EstateService } from '../scenario/estate-schema.js';
import type { SimMetricName } from './types.js';

/** Normal behaviour of a service (all values set). */
export interface Baseline {
  rps: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  errorRate: number;
  /** Cores per pod. */
  cpu: number;
  /** MiB per pod. */
  memoryMi: number;
}

/** How a service runs in Kubernetes. */
export type WorkloadKind = 'Deployment' | 'StatefulSet' | 'Job' | 'none';

/** A service of the estate with every default resolved; immutable for the world's life. */
export interface ServiceModel {
  spec: EstateService;
  name: string;
  namespace: string;
  kind: EstateService['kind'];
  engine?: string;
  tier: string;
  environment: string;
  workload: WorkloadKind;
  /** The image the estate starts with. */
  image: string;
  port: number;
  portName: string;
  replicas: number;
  baseline: Baseline;
  limits: { cpu: number; memoryMi: number };
  isCache: boolean;
  isDatabase: boolean;
  maxConnections?: number;
  maxMemoryMi?: number;
  dependsOn: readonly string[];
  /** Services that depend on this one. */
  dependents: readonly string[];
  repo?: string;
  metrics: readonly SimMetricName[];
}

const ENGINE_PORTS: Record<string, [number, string]> = {
  redis: [6379, 'redis'],
  memcached: [11211, 'memcache'],
  postgres: [5432, 'postgres'],
  mysql: [3306, 'mysql'],
  kafka: [9092, 'kafka'],
  rabbitmq: [5672, 'amqp'],
  nats: [4222, 'nats'],
};

function guessEngine(service: EstateService): string | undefined {
  if (service.engine) return service.engine;
  const name = service.name;
  if (service.kind === 'datastore') {
    if (name.includes('redis')) return 'redis';
    if (name.includes('memcache')) return 'memcached';
    if (name.includes('mysql')) return 'mysql';
    return 'postgres';
  }
  if (service.kind === 'queue') {
    if (name.includes('kafka')) return 'kafka';
    if (name.includes('nats')) return 'nats';
    return 'rabbitmq';
  }
  return undefined;
}

function defaultBaseline(
  kind: EstateService['kind'],
  engine: string | undefined,
  maxMemoryMi: number | undefined,
): Baseline {
  if (engine === 'redis' || engine === 'memcached') {
    return {
      rps: 1500,
      latencyP50Ms: 0.8,
      latencyP99Ms: 3,
      errorRate: 0.0001,
      cpu: 0.25,
      memoryMi: Math.round((maxMemoryMi ?? 1024) * 0.6 + 40),
    };
  }
  if (engine === 'postgres' || engine === 'mysql')
    return { rps: 400, latencyP50Ms: 4, latencyP99Ms: 25, errorRate: 0.0005, cpu: 0.6, memoryMi: 1024 };
  if (kind === 'queue')
    return { rps: 300, latencyP50Ms: 3, latencyP99Ms: 12, errorRate: 0.0002, cpu: 0.3, memoryMi: 768 };
  if (kind === 'external')
    return { rps: 20, latencyP50Ms: 150, latencyP99Ms: 400, errorRate: 0.004, cpu: 0, memoryMi: 0 };
  if (kind === 'job')
    return { rps: 0, latencyP50Ms: 0, latencyP99Ms: 0, errorRate: 0, cpu: 0.5, memoryMi: 512 };
  return { rps: 50, latencyP50Ms: 60, latencyP99Ms: 250, errorRate: 0.002, cpu: 0.25, memoryMi: 256 };
}

function workloadOf(service: EstateService): WorkloadKind {
  if (service.kind === 'external') return 'none';
  if (service.kind === 'job') return 'Job';
  return service.stateful ? 'StatefulSet' : 'Deployment';
}

function metricsOf(model: Omit<ServiceModel, 'metrics' | 'dependents'>): SimMetricName[] {
  const metrics: SimMetricName[] = ['rps', 'latencyP50Ms', 'latencyP99Ms', 'errorRate'];
  if (model.workload !== 'none') metrics.push('cpu', 'memoryMi', 'restarts', 'replicasReady');
  if (model.isDatabase) metrics.push('dbConnectionsInUse', 'dbConnectionsMax');
  if (model.isCache)
    metrics.push('cacheMemoryMi', 'cacheMemoryMaxMi', 'cacheEvictions', 'cacheFragmentationRatio');
  return metrics;
}

/** Resolves every service of an estate to its model, defaults applied. Pure. */
export function buildServiceModels(estate: Estate): Map<string, ServiceModel> {
  const models = new Map<string, ServiceModel>();
  for (const spec of estate.services) {
    const engine = guessEngine(spec);
    const isCache = spec.kind === 'datastore' && (engine === 'redis' || engine === 'memcached');
    const isDatabase = spec.kind === 'datastore' && !isCache;
    const maxMemoryMi = isCache ? (spec.maxMemoryMi ?? 1024) : undefined;
    const baseline = { ...defaultBaseline(spec.kind, engine, maxMemoryMi), ...spec.baseline };
    if (spec.baseline.latencyP99Ms !== undefined && spec.baseline.latencyP50Ms === undefined) {
      baseline.latencyP50Ms = Math.round(spec.baseline.latencyP99Ms * 0.3 * 10) / 10;
    }
    const [enginePort, engineName] = engine ? (ENGINE_PORTS[engine] ?? [8080, 'tcp']) : [8080, 'http'];
    const partial: Omit<ServiceModel, 'metrics' | 'dependents'> = {
      spec,
      name: spec.name,
      namespace: spec.namespace,
      kind: spec.kind,
      ...(engine ? { engine } : {}),
      tier: spec.tier,
      environment: spec.environment ?? estate.environment,
      workload: workloadOf(spec),
      image: spec.image ?? (engine ? `${engine}:7` : `${estate.name}/${spec.name}:1.0.0`),
      port: spec.port ?? enginePort,
      portName: engineName,
      replicas: spec.replicas,
      baseline,
      limits: {
        cpu: spec.limits?.cpu ?? Math.max(0.1, Math.round(baseline.cpu * 2.5 * 100) / 100),
        memoryMi: spec.limits?.memoryMi ?? Math.max(64, Math.round(baseline.memoryMi * 2)),
      },
      isCache,
      isDatabase,
      ...(isDatabase ? { maxConnections: spec.maxConnections ?? 100 } : {}),
      ...(maxMemoryMi !== undefined ? { maxMemoryMi } : {}),
      dependsOn: spec.dependsOn,
      ...(spec.repo ? { repo: spec.repo } : {}),
    };
    models.set(spec.name, { ...partial, dependents: [], metrics: metricsOf(partial) });
  }
  for (const model of models.values()) {
    const dependents = [...models.values()]
      .filter((other) => other.dependsOn.includes(model.name))
      .map((other) => other.name);
    models.set(model.name, { ...model, dependents });
  }
  return models;
}

/** Service names ordered so every dependency comes before its dependents (cycles broken by name order). */
export function dependencyOrder(models: ReadonlyMap<string, ServiceModel>): string[] {
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string): void => {
    if (state.has(name)) return;
    state.set(name, 'visiting');
    for (const dependency of models.get(name)?.dependsOn ?? []) if (models.has(dependency)) visit(dependency);
    state.set(name, 'done');
    order.push(name);
  };
  for (const name of [...models.keys()].sort()) visit(name);
  return order;
}
