import type { client } from '@datadog/datadog-api-client';
import { searchDatadogLogs } from '../datadog/datadog-api.js';

/** One log line. */
export interface LogLine {
  at: number;
  message: string;
  /** error | warn | info | debug, when the source says. */
  level?: string;
}

/** Where a service's log lines come from. */
export interface LogSource {
  /** Lines of `service` in `[fromMs, toMs)`, oldest first; `truncated` when the source stopped early. */
  lines(
    service: string,
    fromMs: number,
    toMs: number,
    signal?: AbortSignal,
  ): Promise<{ lines: LogLine[]; truncated: boolean }>;
}

/** Log lines from Datadog log search; `query` narrows it (e.g. `-status:debug`). */
export function datadogLogSource(
  configuration: client.Configuration,
  options: { query?: string; maxPages?: number } = {},
): LogSource {
  return {
    async lines(service, fromMs, toMs) {
      const query = [
        `service:${/^[\w.-]+$/.test(service) ? service : `"${service.replaceAll('"', '')}"`}`,
        options.query,
      ]
        .filter(Boolean)
        .join(' ');
      const found = await searchDatadogLogs(configuration, {
        query,
        fromMs,
        toMs: toMs - 1,
        ...(options.maxPages ? { maxPages: options.maxPages } : {}),
      });
      return {
        lines: found.logs
          .filter((log) => log.at >= fromMs && log.at < toMs)
          .map((log) => ({ at: log.at, message: log.message, level: log.status })),
        truncated: found.truncated,
      };
    },
  };
}
