import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { listen, type ListenOptions } from '../http/loopback.js';
import { parseJson, readText, requestUrl, sendJson } from '../http/messages.js';
import type { VendorWorld } from '../source.js';
import { listEvents } from './events.js';
import { evaluateMetricQueries, MetricQueryError, parseMetricQueries } from './metric-query.js';
import { LogsSearchError, searchLogs, type LogsSearchRequest } from './logs-search.js';

/** Options of the Datadog API server. */
export interface DatadogServerOptions extends ListenOptions {
  /** The DD-API-KEY to accept; any non-empty key when absent. */
  apiKey?: string;
  /** The DD-APPLICATION-KEY to accept; any non-empty key when absent. */
  appKey?: string;
}

/** One request the server answered. */
export interface DatadogRequestRecord {
  method: string;
  path: string;
  status: number;
  /** Sim time of the request. */
  at: number;
}

/** A running Datadog API server; `stop()` is safe to call twice. */
export interface DatadogServer {
  url: string;
  stop(): Promise<void>;
  /** Every request, in order of arrival. */
  readonly requests: readonly DatadogRequestRecord[];
}

function authorized(request: IncomingMessage, options: DatadogServerOptions): boolean {
  const apiKey = request.headers['dd-api-key'];
  const appKey = request.headers['dd-application-key'];
  if (typeof apiKey !== 'string' || apiKey === '' || typeof appKey !== 'string' || appKey === '')
    return false;
  if (options.apiKey !== undefined && apiKey !== options.apiKey) return false;
  return options.appKey === undefined || appKey === options.appKey;
}

function queryMetrics(world: VendorWorld, url: URL, response: ServerResponse): number {
  const from = url.searchParams.get('from');
  const to = url.searchParams.get('to');
  const query = url.searchParams.get('query');
  const missing = [!from && 'from', !to && 'to', !query && 'query'].filter(Boolean);
  if (missing.length > 0 || !from || !to || !query) {
    sendJson(response, 400, { errors: [`Missing required parameters: ${missing.join(', ')}`] });
    return 400;
  }
  const fromMs = Number(from) * 1000;
  const toMs = Number(to) * 1000;
  if (!Number.isFinite(fromMs) || !Number.isFinite(toMs) || fromMs > toMs) {
    sendJson(response, 400, {
      errors: ['Invalid time range: from and to are seconds since the epoch, from <= to'],
    });
    return 400;
  }
  try {
    const queries = parseMetricQueries(query);
    const series = evaluateMetricQueries(world, queries, fromMs, toMs);
    sendJson(response, 200, {
      status: 'ok',
      res_type: 'time_series',
      resp_version: 1,
      query,
      from_date: fromMs,
      to_date: toMs,
      group_by: [...new Set(queries.flatMap((q) => q.groupBy))],
      series,
      message: '',
    });
    return 200;
  } catch (error) {
    if (!(error instanceof MetricQueryError)) throw error;
    sendJson(response, 400, { status: 'error', error: error.message, errors: [error.message] });
    return 400;
  }
}

async function searchLogsRoute(
  world: VendorWorld,
  request: IncomingMessage,
  url: URL,
  response: ServerResponse,
): Promise<number> {
  const text = await readText(request);
  const body = (text.trim() === '' ? {} : parseJson(text)) as LogsSearchRequest | undefined;
  if (body === undefined || typeof body !== 'object' || body === null) {
    sendJson(response, 400, { errors: ['Malformed JSON body'] });
    return 400;
  }
  try {
    const started = Date.now();
    const page = searchLogs(world, body);
    const meta: Record<string, unknown> = {
      elapsed: Date.now() - started,
      request_id: randomUUID(),
      status: 'done',
    };
    const reply: Record<string, unknown> = { data: page.data, meta };
    if (page.after) {
      meta.page = { after: page.after };
      reply.links = { next: `${url.origin}/api/v2/logs/events?page[cursor]=${page.after}` };
    }
    sendJson(response, 200, reply);
    return 200;
  } catch (error) {
    if (!(error instanceof LogsSearchError)) throw error;
    sendJson(response, error.status, { errors: [error.message] });
    return error.status;
  }
}

function listEventsRoute(world: VendorWorld, url: URL, response: ServerResponse): number {
  const start = Number(url.searchParams.get('start'));
  const end = Number(url.searchParams.get('end'));
  if (
    !url.searchParams.get('start') ||
    !url.searchParams.get('end') ||
    !Number.isFinite(start) ||
    !Number.isFinite(end)
  ) {
    sendJson(response, 400, { errors: ['start and end (seconds since the epoch) are required'] });
    return 400;
  }
  const list = (name: string): string[] | undefined =>
    url.searchParams
      .get(name)
      ?.split(',')
      .map((item) => item.trim())
      .filter(Boolean);
  const priority = url.searchParams.get('priority') ?? undefined;
  const events = listEvents(world, {
    startSeconds: start,
    endSeconds: end,
    tags: list('tags'),
    sources: list('sources'),
    priority,
  });
  sendJson(response, 200, { events, status: 'ok' });
  return 200;
}

/**
 * Starts a Datadog API server over the world: v1 metrics query, v2 logs search (cursor
 * paging) and v1 events list. Every route needs DD-API-KEY and DD-APPLICATION-KEY (403
 * `{"errors":["Forbidden"]}` otherwise).
 */
export async function startDatadogServer(
  world: VendorWorld,
  options: DatadogServerOptions = {},
): Promise<DatadogServer> {
  const requests: DatadogRequestRecord[] = [];
  const server = await listen(
    async (request, response) => {
      const url = requestUrl(request);
      const route = `${request.method ?? 'GET'} ${url.pathname}`;
      let status: number;
      if (!authorized(request, options)) {
        sendJson(response, 403, { errors: ['Forbidden'] });
        status = 403;
      } else if (route === 'GET /api/v1/query') {
        status = queryMetrics(world, url, response);
      } else if (route === 'POST /api/v2/logs/events/search') {
        status = await searchLogsRoute(world, request, url, response);
      } else if (route === 'GET /api/v1/events') {
        status = listEventsRoute(world, url, response);
      } else {
        sendJson(response, 404, { errors: ['Not found'] });
        status = 404;
      }
      requests.push({ method: request.method ?? 'GET', path: url.pathname, status, at: world.now() });
    },
    options,
    { server: 'datadog', log: world.requestLog },
  );
  return { url: server.url, stop: () => server.close(), requests };
}
