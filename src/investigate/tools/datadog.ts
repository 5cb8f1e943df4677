import { client, v1, v2 } from '@datadog/datadog-api-client';
import { z } from 'zod';
import { describeError } from '../../shared/errors.js';
import { sample } from './bound.js';
import { topMessages } from './kubernetes.js';
import { digestSeries, metricResult, type MetricOutput } from './series.js';
import { defineTool, type ReadOnlyTool, type ToolResult } from './tool.js';

/** Options of the Datadog tools. */
export interface DatadogToolsOptions {
  apiKey: string;
  appKey: string;
  /** e.g. `https://api.datadoghq.eu`; default Datadog's US1 site. */
  baseUrl?: string;
}

/** Log search output: sampled lines and the most common error messages. */
export interface LogSearchOutput {
  query: string;
  total: number;
  /** True when more lines matched than were read. */
  more: boolean;
  byStatus: Record<string, number>;
  topMessages: Array<{ message: string; count: number }>;
  lines: Array<{ at?: string; service?: string; status?: string; host?: string; message: string }>;
}

const minutes = z
  .number()
  .int()
  .min(1)
  .max(24 * 60);

/** Datadog metric query and log search (read-only: GET /api/v1/query, POST /api/v2/logs/events/search). */
export function createDatadogTools(options: DatadogToolsOptions): ReadOnlyTool[] {
  const configuration = client.createConfiguration({
    authMethods: { apiKeyAuth: options.apiKey, appKeyAuth: options.appKey },
    enableRetry: false,
    ...(options.baseUrl ? { baseServer: new client.BaseServerConfiguration(options.baseUrl, {}) } : {}),
  });
  const metrics = new v1.MetricsApi(configuration);
  const logs = new v2.LogsApi(configuration);

  const metricQuery = defineTool({
    name: 'datadog_metrics',
    description:
      'Query a Datadog metric, e.g. avg:trace.http.request.errors{service:checkout}. Returns per-series digests (mean, min, max, slope, and mean before/after `pivotMs` when given).',
    input: z.strictObject({
      query: z.string().min(1).max(500),
      fromMinutesAgo: minutes.default(30),
      toMinutesAgo: z
        .number()
        .int()
        .min(0)
        .max(24 * 60)
        .default(0),
      pivotMs: z.number().int().nonnegative().optional(),
    }),
    async run(input, context): Promise<ToolResult<MetricOutput>> {
      const to = Math.floor((context.now - input.toMinutesAgo * 60_000) / 1000);
      const from = Math.floor((context.now - input.fromMinutesAgo * 60_000) / 1000);
      try {
        const reply = await metrics.queryMetrics({ from, to, query: input.query });
        const series = (reply.series ?? []).map((item) =>
          digestSeries(
            item.scope ?? item.metric ?? input.query,
            (item.pointlist ?? []).map((point) => [Number(point[0]), point[1] ?? null] as const),
            input.pivotMs,
          ),
        );
        return metricResult(input.query, series);
      } catch (error) {
        return { status: 'error', summary: `datadog metrics: ${describeError(error)}` };
      }
    },
  });

  const logSearch = defineTool({
    name: 'datadog_logs',
    description:
      'Search Datadog logs, e.g. service:checkout status:error. Returns counts by status, the most common messages and a sample of lines.',
    input: z.strictObject({
      query: z.string().min(1).max(500),
      fromMinutesAgo: minutes.default(30),
      limit: z.number().int().min(1).max(1000).default(200),
    }),
    outputBudgetChars: 5_000,
    async run(input, context): Promise<ToolResult<LogSearchOutput>> {
      try {
        const reply = await logs.listLogs({
          body: {
            filter: {
              query: input.query,
              from: new Date(context.now - input.fromMinutesAgo * 60_000).toISOString(),
              to: new Date(context.now).toISOString(),
            },
            page: { limit: input.limit },
            sort: '-timestamp',
          },
        });
        const entries = (reply.data ?? []).map((entry) => {
          const attributes = entry.attributes ?? {};
          return {
            ...(attributes.timestamp ? { at: new Date(attributes.timestamp).toISOString() } : {}),
            ...(attributes.service ? { service: attributes.service } : {}),
            ...(attributes.status ? { status: attributes.status } : {}),
            ...(attributes.host ? { host: attributes.host } : {}),
            message: String(attributes.message ?? ''),
          };
        });
        const byStatus: Record<string, number> = {};
        for (const entry of entries)
          byStatus[entry.status ?? 'unknown'] = (byStatus[entry.status ?? 'unknown'] ?? 0) + 1;
        const data: LogSearchOutput = {
          query: input.query,
          total: entries.length,
          more: Boolean(reply.meta?.page?.after),
          byStatus,
          topMessages: topMessages(entries.map((entry) => entry.message)),
          lines: sample(entries, 20),
        };
        if (entries.length === 0) return { status: 'no_data', summary: `no logs match ${input.query}`, data };
        return {
          status: 'ok',
          summary: `${entries.length}${data.more ? '+' : ''} lines for ${input.query}; most common: ${data.topMessages
            .slice(0, 3)
            .map((item) => `${item.message} (×${item.count})`)
            .join(' | ')}`,
          data,
        };
      } catch (error) {
        return { status: 'error', summary: `datadog logs: ${describeError(error)}` };
      }
    },
  });

  return [metricQuery, logSearch] as ReadOnlyTool[];
}
