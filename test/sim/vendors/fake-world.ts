import { EventEmitter } from 'node:events';
import type {
  MetricName,
  SeriesPoint,
  VendorEvent,
  VendorLogLine,
  VendorRequest,
  VendorRequestLog,
  VendorService,
  VendorTimelineEvents,
  VendorWorld,
} from '../../../src/sim/vendors/source.js';

/** Sim start of every fake world: 2026-03-02T12:00:00Z. */
export const T0 = Date.UTC(2026, 2, 2, 12, 0, 0);

const BASELINE: Record<string, Partial<Record<MetricName, number>>> = {
  checkout: {
    rps: 120,
    latencyP50Ms: 40,
    latencyP99Ms: 180,
    errorRate: 0.002,
    cpu: 0.4,
    memoryMi: 300,
    restarts: 0,
  },
  payments: {
    rps: 80,
    latencyP50Ms: 30,
    latencyP99Ms: 120,
    errorRate: 0.001,
    cpu: 0.3,
    memoryMi: 250,
    restarts: 0,
  },
  'postgres-orders': { dbConnectionsInUse: 40, dbConnectionsMax: 100, cpu: 0.5, memoryMi: 1024 },
  'redis-session': { cacheMemoryMi: 200, cacheEvictions: 0, cpu: 0.1, memoryMi: 256 },
};

/** A change of one series from `from` (inclusive) until `to` (exclusive, open when absent). */
export interface Override {
  service: string;
  metric: MetricName;
  from: number;
  to?: number;
  value: number;
}

/**
 * A deterministic world for vendor tests: four services with flat baselines plus overrides,
 * a log line per service every 10 s (error lines while checkout's error rate is raised), and
 * events added by hand. Time is manual (`advance`) unless `live` is set, in which case sim
 * time runs at `speed` × wall time from T0.
 */
export class FakeWorld implements VendorWorld {
  readonly overrides: Override[] = [];
  readonly extraEvents: VendorEvent[] = [];
  readonly extraLogs: VendorLogLine[] = [];
  /** Requests the vendor servers reported. */
  readonly requested: VendorRequest[] = [];
  readonly requestLog: VendorRequestLog = { record: (request) => this.requested.push(request) };
  readonly #emitter = new EventEmitter();
  #now = T0;
  #wallStart = Date.now();

  constructor(
    private readonly options: {
      live?: boolean;
      speed?: number;
      start?: number;
      approvals?: 'approve' | 'reject' | 'ignore';
    } = {},
  ) {
    this.#now = options.start ?? T0;
  }

  approvals(): 'approve' | 'reject' | 'ignore' {
    return this.options.approvals ?? 'approve';
  }

  now(): number {
    if (this.options.live)
      return this.#now + Math.floor((Date.now() - this.#wallStart) * (this.options.speed ?? 1));
    return this.#now;
  }

  advance(ms: number): void {
    if (this.options.live) this.#wallStart -= ms / (this.options.speed ?? 1);
    else this.#now += ms;
  }

  services(): readonly VendorService[] {
    return [
      {
        name: 'checkout',
        namespace: 'shop',
        kind: 'service',
        tier: 'critical',
        environment: 'prod',
        repo: 'shop/checkout',
        image: 'shop/checkout:3.0.9',
        slo: { latencyP99Ms: 300, errorRate: 0.01 },
      },
      {
        name: 'payments',
        namespace: 'shop',
        kind: 'service',
        tier: 'critical',
        environment: 'prod',
        repo: 'shop/payments',
        slo: { latencyP99Ms: 250, errorRate: 0.005 },
      },
      {
        name: 'postgres-orders',
        namespace: 'shop',
        kind: 'datastore',
        tier: 'critical',
        environment: 'prod',
      },
      { name: 'redis-session', namespace: 'shop', kind: 'datastore', tier: 'standard', environment: 'prod' },
    ];
  }

  value(service: string, metric: MetricName, t: number): number | undefined {
    const base = BASELINE[service]?.[metric];
    if (base === undefined) return undefined;
    let value = base;
    for (const override of this.overrides) {
      if (
        override.service === service &&
        override.metric === metric &&
        t >= override.from &&
        (override.to === undefined || t < override.to)
      )
        value = override.value;
    }
    return value;
  }

  series(
    service: string,
    metric: MetricName,
    fromMs: number,
    toMs: number,
    stepMs: number,
  ): readonly SeriesPoint[] {
    const points: SeriesPoint[] = [];
    const end = Math.min(toMs, this.now());
    for (let t = fromMs; t <= end; t += stepMs) {
      const value = this.value(service, metric, t);
      if (value === undefined) return [];
      points.push({ t, value });
    }
    return points;
  }

  logs(service: string, range: { fromMs: number; toMs: number; pod?: string }): readonly VendorLogLine[] {
    const lines: VendorLogLine[] = [];
    const end = Math.min(range.toMs, this.now());
    const pod = `${service}-7d9f8b6c5-x2k4p`;
    for (let t = Math.ceil(range.fromMs / 10_000) * 10_000; t <= end; t += 10_000) {
      const failing = service === 'checkout' && (this.value('checkout', 'errorRate', t) ?? 0) > 0.05;
      lines.push(
        failing
          ? { t, service, pod, level: 'error', message: 'ERROR payment token missing in request context' }
          : { t, service, pod, level: 'info', message: `GET /health 200 (${service})` },
      );
    }
    lines.push(
      ...this.extraLogs.filter((line) => line.service === service && line.t >= range.fromMs && line.t <= end),
    );
    return lines
      .filter((line) => range.pod === undefined || line.pod === range.pod)
      .sort((a, b) => a.t - b.t);
  }

  events(fromMs: number, toMs: number): readonly VendorEvent[] {
    return this.extraEvents.filter((event) => event.t >= fromMs && event.t <= toMs).sort((a, b) => a.t - b.t);
  }

  on<K extends keyof VendorTimelineEvents>(
    event: K,
    listener: (payload: VendorTimelineEvents[K]) => void,
  ): () => void {
    this.#emitter.on(event, listener);
    return () => this.#emitter.off(event, listener);
  }

  emit<K extends keyof VendorTimelineEvents>(event: K, payload: VendorTimelineEvents[K]): void {
    this.#emitter.emit(event, payload);
  }
}
