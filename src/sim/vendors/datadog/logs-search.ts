import { stableHash } from '../../../shared/ids.js';
import type { VendorWorld } from '../source.js';
import { matchesLog, parseLogQuery } from './log-query.js';
import { serviceTags } from './tags.js';
import { parseTimeExpression } from './time-expression.js';

/** The v2 logs search request body (the part the sim reads). */
export interface LogsSearchRequest {
  filter?: { query?: string; from?: string; to?: string; indexes?: string[] };
  page?: { cursor?: string; limit?: number };
  sort?: 'timestamp' | '-timestamp';
}

/** One log in a v2 search reply. */
export interface LogsSearchItem {
  id: string;
  type: 'log';
  attributes: {
    service: string;
    status: string;
    message: string;
    timestamp: string;
    host: string;
    tags: string[];
    attributes: Record<string, string>;
  };
}

/** A search the sim refuses; `status` is the HTTP status, `message` goes in `errors`. */
export class LogsSearchError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const DEFAULT_LIMIT = 10;
const MAX_LIMIT = 5000;

function normalStatus(level: string): string {
  const lower = level.toLowerCase();
  if (lower === 'warning') return 'warn';
  if (lower === 'fatal') return 'critical';
  return lower;
}

function encodeCursor(offset: number): string {
  return Buffer.from(JSON.stringify({ offset }), 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): number {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { offset?: unknown };
    if (typeof parsed.offset === 'number' && Number.isInteger(parsed.offset) && parsed.offset >= 0)
      return parsed.offset;
  } catch {
    // fall through to the error below
  }
  throw new LogsSearchError(400, 'Invalid cursor');
}

/** Runs a search over every service's logs: filter, sort, then one page from the cursor. */
export function searchLogs(
  world: VendorWorld,
  request: LogsSearchRequest,
): { data: LogsSearchItem[]; after?: string } {
  const now = world.now();
  const fromMs = parseTimeExpression(request.filter?.from ?? 'now-15m', now);
  const toMs = parseTimeExpression(request.filter?.to ?? 'now', now);
  if (fromMs === undefined || toMs === undefined)
    throw new LogsSearchError(400, 'Invalid time range: from and to must be dates, ms timestamps or now-N');
  const limit = request.page?.limit ?? DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT)
    throw new LogsSearchError(400, `page[limit] must be between 1 and ${MAX_LIMIT}`);
  let filter;
  try {
    filter = parseLogQuery(request.filter?.query ?? '*');
  } catch (error) {
    throw new LogsSearchError(
      400,
      `Invalid query: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const matched: LogsSearchItem[] = [];
  for (const service of world.services()) {
    const tags = serviceTags(service);
    world.logs(service.name, { fromMs, toMs }).forEach((line, index) => {
      const status = normalStatus(line.level);
      const fields = new Map([
        ...tags,
        ['status', status],
        ['host', line.pod],
        ['pod_name', line.pod],
        ['source', 'kubernetes'],
      ]);
      if (!matchesLog(filter, { fields, message: line.message })) return;
      matched.push({
        id: Buffer.from(
          stableHash(line.service, line.pod, line.t, index, line.message).slice(0, 36),
          'hex',
        ).toString('base64url'),
        type: 'log',
        attributes: {
          service: line.service,
          status,
          message: line.message,
          timestamp: new Date(line.t).toISOString(),
          host: line.pod,
          tags: [...tags]
            .map(([key, value]) => `${key}:${value}`)
            .concat(`pod_name:${line.pod}`, 'source:kubernetes'),
          attributes: { pod_name: line.pod, kube_namespace: service.namespace, level: line.level },
        },
      });
    });
  }
  const direction = request.sort === 'timestamp' ? 1 : -1;
  matched.sort(
    (a, b) =>
      direction * (Date.parse(a.attributes.timestamp) - Date.parse(b.attributes.timestamp)) ||
      a.id.localeCompare(b.id),
  );
  const offset = request.page?.cursor ? decodeCursor(request.page.cursor) : 0;
  const data = matched.slice(offset, offset + limit);
  const next = offset + limit;
  return next < matched.length ? { data, after: encodeCursor(next) } : { data };
}
