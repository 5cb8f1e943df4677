import type { IncomingMessage, ServerResponse } from 'node:http';
import { listen, type ListenOptions } from '../http/loopback.js';
import { mediaType, readText, requestUrl, sendJson } from '../http/messages.js';
import { PROMETHEUS_METRICS } from '../metric-catalog.js';
import type { VendorWorld } from '../source.js';
import { evaluateAt, evaluateRange, seriesLabels, type EvaluationOptions, type Labels } from './evaluate.js';
import { parsePromDuration, parsePromQl, PromQlError } from './promql.js';

/** Options of the Prometheus HTTP API server. */
export interface PrometheusServerOptions extends ListenOptions, EvaluationOptions {}

/** One query the server answered. */
export interface PrometheusQueryRecord {
  path: string;
  query: string;
  status: number;
}

/** A running Prometheus HTTP API server; `stop()` is safe to call twice. */
export interface PrometheusServer {
  url: string;
  stop(): Promise<void>;
  readonly queries: readonly PrometheusQueryRecord[];
}

const MAX_POINTS = 11_000;

class BadData extends Error {}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

function sample(t: number, value: number): [number, string] {
  return [t / 1000, formatValue(value)];
}

function parseTime(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined || text === '') return fallback;
  const seconds = Number(text);
  if (Number.isFinite(seconds)) return Math.round(seconds * 1000);
  const parsed = Date.parse(text);
  if (Number.isNaN(parsed))
    throw new BadData(`invalid parameter "${name}": cannot parse "${text}" to a valid timestamp`);
  return parsed;
}

function parseStep(text: string | undefined): number {
  if (text === undefined || text === '')
    throw new BadData('invalid parameter "step": cannot parse "" to a valid duration');
  const seconds = Number(text);
  const ms = Number.isFinite(seconds) ? Math.round(seconds * 1000) : parsePromDuration(text);
  if (ms === undefined)
    throw new BadData(`invalid parameter "step": cannot parse "${text}" to a valid duration`);
  if (ms <= 0)
    throw new BadData(
      'zero or negative query resolution step widths are not accepted. Try a positive integer',
    );
  return ms;
}

async function readParams(request: IncomingMessage, url: URL): Promise<URLSearchParams> {
  const params = new URLSearchParams(url.searchParams);
  if (request.method === 'POST' && mediaType(request) === 'application/x-www-form-urlencoded') {
    for (const [key, value] of new URLSearchParams(await readText(request))) params.set(key, value);
  }
  return params;
}

function instantQuery(world: VendorWorld, params: URLSearchParams, options: EvaluationOptions): unknown {
  const expr = parsePromQl(params.get('query') ?? '');
  const at = parseTime('time', params.get('time') ?? undefined, world.now());
  const value = evaluateAt(world, expr, at, options);
  if (value.type === 'scalar') return { resultType: 'scalar', result: sample(at, value.value) };
  if (value.type === 'vector')
    return {
      resultType: 'vector',
      result: value.samples.map((s) => ({ metric: s.labels, value: sample(at, s.value) })),
    };
  return {
    resultType: 'matrix',
    result: value.series.map((s) => ({
      metric: s.labels,
      values: s.points.map((p) => sample(p.t, p.value)),
    })),
  };
}

function rangeQuery(world: VendorWorld, params: URLSearchParams, options: EvaluationOptions): unknown {
  const expr = parsePromQl(params.get('query') ?? '');
  const start = parseTime('start', params.get('start') ?? '', Number.NaN);
  const end = parseTime('end', params.get('end') ?? '', Number.NaN);
  if (Number.isNaN(start))
    throw new BadData('invalid parameter "start": cannot parse "" to a valid timestamp');
  if (Number.isNaN(end)) throw new BadData('invalid parameter "end": cannot parse "" to a valid timestamp');
  if (end < start) throw new BadData('invalid parameter "end": end timestamp must not be before start time');
  const step = parseStep(params.get('step') ?? undefined);
  if ((end - start) / step > MAX_POINTS)
    throw new BadData(
      'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)',
    );
  const series = evaluateRange(world, expr, start, end, step, options);
  return {
    resultType: 'matrix',
    result: series.map((s) => ({ metric: s.labels, values: s.points.map((p) => sample(p.t, p.value)) })),
  };
}

function allLabels(world: VendorWorld): Labels[] {
  return world
    .services()
    .flatMap((service) => [...PROMETHEUS_METRICS.keys()].map((name) => seriesLabels(name, service)));
}

function labelValues(world: VendorWorld, name: string): string[] {
  return [
    ...new Set(allLabels(world).flatMap((labels) => (labels[name] === undefined ? [] : [labels[name]]))),
  ].sort();
}

async function route(
  world: VendorWorld,
  request: IncomingMessage,
  response: ServerResponse,
  options: PrometheusServerOptions,
  record: (r: PrometheusQueryRecord) => void,
): Promise<void> {
  const url = requestUrl(request);
  const path = url.pathname;
  if (path === '/-/healthy' || path === '/-/ready') {
    response.writeHead(200, { 'content-type': 'text/plain' }).end('Prometheus Server is Ready.\n');
    return;
  }
  const method = request.method ?? 'GET';
  if (method !== 'GET' && method !== 'POST') {
    sendJson(response, 405, {
      status: 'error',
      errorType: 'bad_data',
      error: `method ${method} not allowed`,
    });
    return;
  }
  const params = await readParams(request, url);
  const labelMatch = /^\/api\/v1\/label\/([^/]+)\/values$/.exec(path);
  let data: unknown;
  try {
    if (path === '/api/v1/query') data = instantQuery(world, params, options);
    else if (path === '/api/v1/query_range') data = rangeQuery(world, params, options);
    else if (path === '/api/v1/labels')
      data = [...new Set(allLabels(world).flatMap((labels) => Object.keys(labels)))].sort();
    else if (labelMatch) data = labelValues(world, decodeURIComponent(labelMatch[1] ?? ''));
    else if (path === '/api/v1/status/buildinfo')
      data = { version: '2.53.0', revision: 'nightshift-sim', branch: 'sim', goVersion: 'none' };
    else {
      sendJson(response, 404, {
        status: 'error',
        errorType: 'not_found',
        error: `unknown API endpoint ${path}`,
      });
      return;
    }
  } catch (error) {
    if (!(error instanceof PromQlError || error instanceof BadData)) throw error;
    if (path.startsWith('/api/v1/query')) record({ path, query: params.get('query') ?? '', status: 400 });
    sendJson(response, 400, { status: 'error', errorType: 'bad_data', error: error.message });
    return;
  }
  if (path.startsWith('/api/v1/query')) record({ path, query: params.get('query') ?? '', status: 200 });
  sendJson(response, 200, { status: 'success', data });
}

/**
 * Starts a Prometheus HTTP API server over the world: `/api/v1/query` and
 * `/api/v1/query_range` (GET or form POST) for the PromQL subset of promql.ts, plus label
 * listings. No authentication, as a default Prometheus.
 */
export async function startPrometheusServer(
  world: VendorWorld,
  options: PrometheusServerOptions = {},
): Promise<PrometheusServer> {
  const queries: PrometheusQueryRecord[] = [];
  const server = await listen(
    (request, response) => route(world, request, response, options, (r) => queries.push(r)),
    options,
    { server: 'prometheus', log: world.requestLog },
  );
  return { url: server.url, stop: () => server.close(), queries };
}
