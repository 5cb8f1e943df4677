import type { SymptomCheck, SymptomReading } from '../../act/index.js';
import { serviceId } from '../../graph/ids.js';
import type { GraphStore } from '../../graph/store.js';

/** Error ratio above which a service counts as unhealthy when its entity names no SLO. */
export const DEFAULT_ERROR_RATIO = 0.02;

async function instant(url: string, query: string, signal?: AbortSignal): Promise<number | undefined> {
  const response = await fetch(`${url.replace(/\/$/, '')}/api/v1/query?query=${encodeURIComponent(query)}`, {
    ...(signal ? { signal } : {}),
  });
  if (!response.ok) throw new Error(`prometheus answered ${response.status} for ${query}`);
  const body = (await response.json()) as {
    data?: { result?: Array<{ value?: [number, string] }> };
  };
  const value = body.data?.result?.[0]?.value?.[1];
  return value === undefined ? undefined : Number(value);
}

/**
 * Checks a Kubernetes action's target service on Prometheus: healthy when its error ratio
 * (`errorsQuery` / `requestsQuery`) is under its SLO (`sloErrorRate` on the Service entity) or
 * `DEFAULT_ERROR_RATIO`. A node target (cordon) is healthy once it is unschedulable, which the
 * action itself ensured, so only the services on it matter: those are read through the symptom
 * entities' services when verify runs the incident-level check instead.
 */
export function prometheusSymptomCheck(options: {
  url: string;
  graph: GraphStore;
  /** PromQL templates with `$service`. */
  errorsQuery: string;
  requestsQuery: string;
}): SymptomCheck {
  return async (request, signal): Promise<SymptomReading> => {
    const target = request.target;
    if (target.kind === 'Node') return { healthy: true, detail: `node ${target.name} is cordoned` };
    // A flag is checked on the service that reads it.
    let service = target.name;
    if (target.kind === 'FeatureFlag') {
      const [flag] = await options.graph.find({ kind: 'FeatureFlag', where: { key: target.name }, limit: 1 });
      const owner = flag?.properties.service;
      if (typeof owner === 'string') service = owner;
    }
    const entity = await options.graph.get(serviceId(service));
    const slo = entity?.properties.sloErrorRate;
    const limit = typeof slo === 'number' && slo > 0 ? slo : DEFAULT_ERROR_RATIO;
    const errors = await instant(options.url, options.errorsQuery.replaceAll('$service', service), signal);
    const total = await instant(options.url, options.requestsQuery.replaceAll('$service', service), signal);
    if (errors === undefined || total === undefined || total <= 0)
      return { healthy: false, detail: `no request rate for ${service} yet` };
    const ratio = errors / total;
    return {
      healthy: ratio <= limit,
      detail: `${service}: ${(ratio * 100).toFixed(2)} % errors (limit ${(limit * 100).toFixed(2)} %)`,
    };
  };
}
