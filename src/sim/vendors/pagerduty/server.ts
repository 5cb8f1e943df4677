import { listen, type ListenOptions } from '../http/loopback.js';
import { parseJson, readText, requestUrl, sendJson } from '../http/messages.js';
import type { VendorWorld } from '../source.js';
import { IncidentBook, type PagerDutyEventRecord, type PagerDutyIncident } from './incidents.js';
import { validateEvent, type PagerDutyEvent } from './validate.js';

/** Options of the PagerDuty Events API server. */
export type PagerDutyServerOptions = ListenOptions;

/** A status the server can be told to answer instead of processing (retry tests). */
export type InjectedFailure = 429 | 500 | 502 | 503;

/** Every request to /v2/enqueue, including refused and failed ones. */
export interface PagerDutyAttempt {
  at: number;
  status: number;
  body: unknown;
}

/** A running PagerDuty Events API v2 server; `stop()` is safe to call twice. */
export interface PagerDutyServer {
  url: string;
  /** Accepted events, in order. */
  readonly events: readonly PagerDutyEventRecord[];
  /** Every incident opened, oldest first. */
  readonly incidents: readonly PagerDutyIncident[];
  readonly attempts: readonly PagerDutyAttempt[];
  /** The latest incident for a dedup key. */
  incident(dedupKey: string): PagerDutyIncident | undefined;
  /** The next `count` requests answer `status` without being processed. */
  failNext(count: number, status: InjectedFailure): void;
  stop(): Promise<void>;
}

const FAILURE_BODIES: Record<InjectedFailure, unknown> = {
  429: {
    status: 'throttle event',
    message: 'Requests for this service are arriving too quickly. Please retry later.',
  },
  500: { status: 'error', message: 'Internal server error' },
  502: { status: 'error', message: 'Bad gateway' },
  503: { status: 'error', message: 'Service unavailable' },
};

/**
 * Starts a PagerDuty Events API v2 server: `POST /v2/enqueue` validates as PagerDuty does
 * (400 `invalid event` with its error strings), answers 202 with the dedup key, and keeps
 * incident state per dedup key. No auth header: the routing key is in the body.
 */
export async function startPagerDutyServer(
  world: VendorWorld,
  options: PagerDutyServerOptions = {},
): Promise<PagerDutyServer> {
  const book = new IncidentBook();
  const attempts: PagerDutyAttempt[] = [];
  const failures: InjectedFailure[] = [];

  const server = await listen(
    async (request, response) => {
      const url = requestUrl(request);
      if (url.pathname !== '/v2/enqueue') {
        sendJson(response, 404, { status: 'error', message: 'Not found' });
        return;
      }
      if (request.method !== 'POST') {
        sendJson(response, 405, { status: 'error', message: 'Method not allowed' });
        return;
      }
      const text = await readText(request);
      const body = parseJson(text);
      const at = world.now();
      const failure = failures.shift();
      if (failure !== undefined) {
        attempts.push({ at, status: failure, body: body ?? text });
        sendJson(response, failure, FAILURE_BODIES[failure]);
        return;
      }
      const errors =
        body === undefined ? ['Event object is invalid: the body is not valid JSON'] : validateEvent(body);
      if (errors.length > 0) {
        attempts.push({ at, status: 400, body: body ?? text });
        sendJson(response, 400, { status: 'invalid event', message: 'Event object is invalid', errors });
        return;
      }
      const dedupKey = book.apply(body as PagerDutyEvent, at);
      attempts.push({ at, status: 202, body });
      sendJson(response, 202, { status: 'success', message: 'Event processed', dedup_key: dedupKey });
    },
    options,
    { server: 'pagerduty', log: world.requestLog },
  );

  return {
    url: server.url,
    events: book.events,
    incidents: book.incidents,
    attempts,
    incident: (dedupKey) => book.current(dedupKey),
    failNext(count, status) {
      for (let index = 0; index < count; index++) failures.push(status);
    },
    stop: () => server.close(),
  };
}
