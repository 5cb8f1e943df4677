import { z } from 'zod';
import { describeError } from '../../shared/errors.js';
import { digestSeries, metricResult, type MetricOutput } from './series.js';
import { defineTool, type ReadOnlyTool, type ToolResult } from './tool.js';

/** Options of the Prometheus tool. */
export interface PrometheusToolsOptions {
  /** Base URL, e.g. `http://prometheus:9090`. */
  url: string;
  /** Extra headers (e.g. authorization for a managed Prometheus). */
  headers?: Record<string, string>;
}

interface RangeReply {
  status?: string;
  error?: string;
  data?: {
    resultType?: string;
    result?: Array<{ metric?: Record<string, string>; values?: Array<[number, string]> }>;
  };
}

function labelsOf(metric: Record<string, string> | undefined): string {
  const entries = Object.entries(metric ?? {}).filter(([key]) => key !== '__name__');
  return `${metric?.__name__ ?? ''}{${entries.map(([key, value]) => `${key}="${value}"`).join(',')}}`;
}

/** A PromQL range query over the HTTP API (GET /api/v1/query_range), digested per series. */
export function createPrometheusTools(options: PrometheusToolsOptions): ReadOnlyTool[] {
  const base = options.url.replace(/\/+$/, '');
  const query = defineTool({
    name: 'prometheus_query',
    description:
      'Run a PromQL range query, e.g. nightshift_sim_error_rate{service="checkout"}. Returns per-series digests (mean, min, max, slope, mean before/after `pivotMs`).',
    input: z.strictObject({
      query: z.string().min(1).max(1000),
      fromMinutesAgo: z
        .number()
        .int()
        .min(1)
        .max(24 * 60)
        .default(30),
      stepSeconds: z.number().int().min(1).max(3600).default(15),
      pivotMs: z.number().int().nonnegative().optional(),
    }),
    async run(input, context): Promise<ToolResult<MetricOutput>> {
      const end = context.now / 1000;
      const start = end - input.fromMinutesAgo * 60;
      const params = new URLSearchParams({
        query: input.query,
        start: start.toFixed(3),
        end: end.toFixed(3),
        step: String(input.stepSeconds),
      });
      try {
        const response = await fetch(`${base}/api/v1/query_range?${params.toString()}`, {
          headers: { accept: 'application/json', ...(options.headers ?? {}) },
          signal: context.signal,
        });
        const body = (await response.json()) as RangeReply;
        if (!response.ok || body.status !== 'success')
          return { status: 'error', summary: `prometheus: ${response.status} ${body.error ?? ''}`.trim() };
        const series = (body.data?.result ?? []).map((item) =>
          digestSeries(
            labelsOf(item.metric),
            (item.values ?? []).map(([t, value]) => [t * 1000, Number(value)] as const),
            input.pivotMs,
          ),
        );
        return metricResult(input.query, series);
      } catch (error) {
        return { status: 'error', summary: `prometheus: ${describeError(error)}` };
      }
    },
  });
  return [query] as ReadOnlyTool[];
}
