import { client, v1, v2 } from '@datadog/datadog-api-client';
import type { Point } from '../../../detect/anomaly/index.js';
import { SystemError } from '../../../shared/errors.js';
import type { Secret } from '../../../shared/secret.js';
import type { MetricSource } from '../metrics/slo-poller.js';

/** Where the Datadog API is and the keys to call it with. */
export interface DatadogApiOptions {
  /** API base for the site, e.g. `https://api.datadoghq.eu`; every operation goes there. */
  baseUrl: string;
  apiKey: Secret;
  appKey: Secret;
}

/**
 * A client configuration whose base server overrides every operation's host (so `DD_SITE` in the
 * environment changes nothing), without the client's own retries: a failed poll is retried whole.
 */
export function datadogConfiguration(options: DatadogApiOptions): client.Configuration {
  return client.createConfiguration({
    authMethods: { apiKeyAuth: options.apiKey.reveal(), appKeyAuth: options.appKey.reveal() },
    baseServer: new client.BaseServerConfiguration(options.baseUrl.replace(/\/+$/, ''), {}),
    enableRetry: false,
  });
}

function failed(what: string, error: unknown): SystemError {
  const code = (error as { code?: unknown }).code;
  const retryable = typeof code !== 'number' || code === 408 || code === 429 || code >= 500;
  return new SystemError(
    'datadog_failed',
    `Datadog ${what} failed${typeof code === 'number' ? ` (HTTP ${code})` : ''}`,
    {
      cause: error,
      retryable,
    },
  );
}

function pointsOf(series: v1.MetricsQueryMetadata | undefined): Point[] {
  return (series?.pointlist ?? [])
    .filter((point) => typeof point[0] === 'number' && typeof point[1] === 'number')
    .map(([at, value]): Point => [at, value]);
}

/**
 * Metric queries through `v1.MetricsApi.queryMetrics` (`GET /api/v1/query`), up to `batchSize`
 * (default 10) per call as comma-separated queries: the API is rate limited per organization.
 */
export function datadogMetricSource(configuration: client.Configuration, batchSize = 10): MetricSource {
  const api = new v1.MetricsApi(configuration);
  const query = async (text: string, fromMs: number, toMs: number): Promise<v1.MetricsQueryResponse> => {
    try {
      return await api.queryMetrics({
        from: Math.floor(fromMs / 1000),
        to: Math.ceil(toMs / 1000),
        query: text,
      });
    } catch (error) {
      throw failed('metric query', error);
    }
  };
  return {
    source: 'datadog',
    batchSize,
    async series(text, fromMs, toMs) {
      return pointsOf((await query(text, fromMs, toMs)).series?.[0]);
    },
    async seriesBatch(texts, fromMs, toMs) {
      if (texts.some((text) => /[,]/.test(text.replace(/\{[^}]*\}|\([^)]*\)/g, '')))) {
        // A query with a top-level comma would shift every index after it.
        throw new Error('a query holds a top-level comma; ask one by one');
      }
      const reply = await query(texts.join(','), fromMs, toMs);
      const answered: Point[][] = texts.map(() => []);
      for (const series of reply.series ?? []) {
        const index = series.queryIndex ?? 0;
        if (answered[index]?.length === 0) answered[index] = pointsOf(series);
      }
      return answered;
    },
  };
}

/** One log event from a search. */
export interface DatadogLog {
  id: string;
  at: number;
  service: string;
  status: string;
  message: string;
  host?: string;
}

/** A log search over a time range. */
export interface DatadogLogSearch {
  query: string;
  fromMs: number;
  toMs: number;
  /** Events per page (1–5000). Default 1000. */
  pageLimit?: number;
  /** Pages read at most; the search stops there and says so. Default 20. */
  maxPages?: number;
}

/**
 * Reads every log matching a search, oldest first, following `meta.page.after` cursors
 * (`v2.LogsApi.listLogs`, `POST /api/v2/logs/events/search`). `truncated` is true when `maxPages`
 * stopped it.
 */
export async function searchDatadogLogs(
  configuration: client.Configuration,
  search: DatadogLogSearch,
): Promise<{ logs: DatadogLog[]; truncated: boolean }> {
  const api = new v2.LogsApi(configuration);
  const logs: DatadogLog[] = [];
  let cursor: string | undefined;
  const maxPages = search.maxPages ?? 20;
  for (let page = 0; page < maxPages; page++) {
    let reply: v2.LogsListResponse;
    try {
      reply = await api.listLogs({
        body: {
          filter: {
            query: search.query,
            from: new Date(search.fromMs).toISOString(),
            to: new Date(search.toMs).toISOString(),
          },
          sort: 'timestamp',
          page: { limit: search.pageLimit ?? 1000, ...(cursor ? { cursor } : {}) },
        },
      });
    } catch (error) {
      throw failed('log search', error);
    }
    for (const item of reply.data ?? []) {
      const attributes = item.attributes;
      const at = attributes?.timestamp?.getTime();
      if (!attributes || at === undefined || Number.isNaN(at)) continue;
      logs.push({
        id: item.id ?? `${at}`,
        at,
        service: attributes.service ?? 'unknown',
        status: attributes.status ?? 'info',
        message: attributes.message ?? '',
        ...(attributes.host ? { host: attributes.host } : {}),
      });
    }
    cursor = reply.meta?.page?.after;
    if (!cursor) return { logs, truncated: false };
  }
  return { logs, truncated: true };
}
