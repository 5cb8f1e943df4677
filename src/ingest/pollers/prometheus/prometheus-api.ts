import { fetch } from 'undici';
import { z } from 'zod';
import type { Point } from '../../../detect/anomaly/index.js';
import { SystemError } from '../../../shared/errors.js';
import type { Secret } from '../../../shared/secret.js';
import type { MetricSource } from '../metrics/slo-poller.js';

/** Where Prometheus (or a compatible API: Thanos, Mimir, VictoriaMetrics) answers. */
export interface PrometheusApiOptions {
  /** Base URL; `/api/v1/query_range` is appended. */
  url: string;
  /** Resolution of range queries. Default 15 s. */
  stepMs?: number;
  /** Sent as `Authorization: Bearer` when set. */
  bearerToken?: Secret;
  /** Per request. Default 10 s. */
  timeoutMs?: number;
}

const replySchema = z.object({
  status: z.string(),
  error: z.string().optional(),
  errorType: z.string().optional(),
  data: z
    .object({
      resultType: z.string(),
      result: z.array(
        z.object({
          metric: z.record(z.string(), z.string()).optional(),
          values: z.array(z.tuple([z.number(), z.string()])).optional(),
        }),
      ),
    })
    .optional(),
});

/** Range queries through the Prometheus HTTP API (`GET /api/v1/query_range`). */
export function prometheusMetricSource(options: PrometheusApiOptions): MetricSource {
  const base = options.url.replace(/\/+$/, '');
  const stepMs = options.stepMs ?? 15_000;
  return {
    source: 'prometheus',
    async series(query, fromMs, toMs, signal) {
      // Prometheus refuses more than 11,000 points per series; widen the step when needed.
      const step = Math.max(stepMs, Math.ceil((toMs - fromMs) / 11_000 / 1000) * 1000);
      const parameters = new URLSearchParams({
        query,
        start: String(fromMs / 1000),
        end: String(toMs / 1000),
        step: String(step / 1000),
      });
      const timeout = AbortSignal.timeout(options.timeoutMs ?? 10_000);
      let response: Awaited<ReturnType<typeof fetch>>;
      try {
        response = await fetch(`${base}/api/v1/query_range?${parameters.toString()}`, {
          headers: {
            accept: 'application/json',
            ...(options.bearerToken ? { authorization: `Bearer ${options.bearerToken.reveal()}` } : {}),
          },
          signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        });
      } catch (error) {
        throw new SystemError('prometheus_failed', `Prometheus query_range failed: ${String(error)}`, {
          cause: error,
          retryable: true,
        });
      }
      const body: unknown = await response.json().catch(() => undefined);
      const parsed = replySchema.safeParse(body);
      if (!response.ok || !parsed.success || parsed.data.status !== 'success') {
        const reason = parsed.success ? (parsed.data.error ?? parsed.data.status) : 'not a Prometheus reply';
        throw new SystemError(
          'prometheus_failed',
          `Prometheus query_range answered ${response.status}: ${reason}`,
          {
            retryable: response.status >= 500 || response.status === 429,
            data: { query },
          },
        );
      }
      const values = parsed.data.data?.result[0]?.values ?? [];
      return values
        .map(([seconds, value]): Point => [Math.round(seconds * 1000), Number(value)])
        .filter(([, value]) => Number.isFinite(value));
    },
  };
}
