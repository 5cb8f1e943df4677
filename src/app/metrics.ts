import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { VERSION } from '../shared/version.js';

/** The process-wide Prometheus registry, with Node defaults and `nightshift_build_info`. */
export function createMetrics(): {
  registry: Registry;
  httpRequests: Counter<'method' | 'route' | 'status'>;
} {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const buildInfo = new Gauge({
    name: 'nightshift_build_info',
    help: 'Always 1; labels carry the version and the Node.js runtime',
    labelNames: ['version', 'node'],
    registers: [registry],
  });
  buildInfo.set({ version: VERSION, node: process.version }, 1);
  const httpRequests = new Counter({
    name: 'nightshift_http_requests_total',
    help: 'HTTP requests served, by route and status',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  return { registry, httpRequests };
}
