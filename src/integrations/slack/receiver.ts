import { isValidSlackRequest, type App, type Receiver, type ReceiverEvent } from '@slack/bolt';
import type { Logger } from '../../shared/logger.js';
import type { Secret } from '../../shared/secret.js';

/** Options of the receiver. */
export interface FetchReceiverOptions {
  signingSecret: Secret;
  logger: Logger;
  /** Wall clock for the signature's 5-minute window. Default Date.now. */
  now?: () => number;
}

type Parsed = { ok: true; body: Record<string, unknown> } | { ok: false };

function parseBody(raw: string, contentType: string): Parsed {
  try {
    if (contentType.startsWith('application/x-www-form-urlencoded')) {
      const form = new URLSearchParams(raw);
      const payload = form.get('payload');
      if (payload !== null) {
        const parsed = JSON.parse(payload) as unknown;
        return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
          ? { ok: true, body: parsed as Record<string, unknown> }
          : { ok: false };
      }
      return { ok: true, body: Object.fromEntries(form) };
    }
    const parsed = JSON.parse(raw) as unknown;
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? { ok: true, body: parsed as Record<string, unknown> }
      : { ok: false };
  } catch {
    return { ok: false };
  }
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

function errorResponse(status: number, code: string, message: string): Response {
  return json(status, { error: { code, message } });
}

/**
 * A Bolt receiver fed by a Fetch-style handler, so Bolt mounts on the daemon's own HTTP server
 * (hono) instead of opening a port. `handle(request)` checks Slack's v0 signature over the raw
 * body (401 when it is missing, forged or older than five minutes), answers `ssl_check` and
 * `url_verification` itself, and hands everything else to Bolt.
 *
 * Events API deliveries are answered only once every listener has finished (500 when one
 * failed, so Slack redelivers): a message acknowledged to Slack has been handed on. Interactions
 * and slash commands are answered as soon as the listener calls `ack()`, within Slack's
 * three-second limit, and their processing continues after the reply.
 */
export class FetchReceiver implements Receiver {
  #app: App | undefined;
  readonly #options: FetchReceiverOptions;
  readonly #pending = new Set<Promise<unknown>>();

  constructor(options: FetchReceiverOptions) {
    this.#options = options;
  }

  init(app: App): void {
    this.#app = app;
  }

  start(): Promise<void> {
    return Promise.resolve();
  }

  /** Waits for work started by earlier requests (Bolt's `stop`). */
  stop(): Promise<void> {
    return this.idle();
  }

  /** Resolves once work started by earlier requests has finished. */
  async idle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  /**
   * Handles one request from Slack; never throws. `properties` derives extra listener context
   * (Bolt's `customProperties`) from the raw body.
   */
  async handle(request: Request, properties?: (raw: string) => Record<string, unknown>): Promise<Response> {
    const logger = this.#options.logger;
    const raw = await request.text();
    const contentType = request.headers.get('content-type') ?? '';
    if (
      contentType.startsWith('application/x-www-form-urlencoded') &&
      new URLSearchParams(raw).get('ssl_check') === '1'
    )
      return new Response('', { status: 200 });

    const signature = request.headers.get('x-slack-signature');
    const timestamp = Number(request.headers.get('x-slack-request-timestamp'));
    const signed =
      signature !== null &&
      Number.isFinite(timestamp) &&
      isValidSlackRequest({
        signingSecret: this.#options.signingSecret.reveal(),
        body: raw,
        headers: { 'x-slack-signature': signature, 'x-slack-request-timestamp': timestamp },
        nowMilliseconds: (this.#options.now ?? Date.now)(),
      });
    if (!signed) {
      logger.warn(
        { path: new URL(request.url).pathname },
        'slack request with a missing or invalid signature',
      );
      return errorResponse(401, 'unauthorized', 'missing, invalid or stale Slack request signature');
    }

    const parsed = parseBody(raw, contentType);
    if (!parsed.ok) return errorResponse(400, 'invalid_payload', 'the body is not a Slack payload');
    const body = parsed.body;
    if (body.type === 'url_verification') return json(200, { challenge: body.challenge });

    const app = this.#app;
    if (!app) return errorResponse(503, 'not_ready', 'the Slack app is not initialised');

    let acked = false;
    let stored: unknown;
    let onAck: () => void = () => undefined;
    const acknowledged = new Promise<void>((resolve) => {
      onAck = resolve;
    });
    const retryNum = request.headers.get('x-slack-retry-num');
    const retryReason = request.headers.get('x-slack-retry-reason');
    const event: ReceiverEvent = {
      body,
      ack: (response?: unknown) => {
        if (acked) return Promise.resolve();
        acked = true;
        stored = response;
        onAck();
        return Promise.resolve();
      },
      ...(retryNum !== null ? { retryNum: Number(retryNum) } : {}),
      ...(retryReason !== null ? { retryReason } : {}),
      ...(properties ? { customProperties: properties(raw) } : {}),
    };

    const processing = app.processEvent(event).then(
      () => ({ failed: false as const }),
      (error: unknown) => {
        logger.error(
          { err: error instanceof Error ? error.message : String(error) },
          'slack listener failed',
        );
        return { failed: true as const };
      },
    );
    this.#pending.add(processing);
    void processing.finally(() => this.#pending.delete(processing));

    const reply = (): Response =>
      stored === undefined || stored === null || stored === ''
        ? new Response('', { status: 200 })
        : typeof stored === 'string'
          ? new Response(stored, { status: 200 })
          : json(200, stored);

    if (body.type === 'event_callback') {
      const outcome = await processing;
      if (outcome.failed) return errorResponse(500, 'listener_failed', 'processing failed; Slack will retry');
      return reply();
    }
    const first = await Promise.race([acknowledged.then(() => 'acked' as const), processing]);
    if (first === 'acked') return reply();
    if (first.failed) return errorResponse(500, 'listener_failed', 'processing failed');
    return acked ? reply() : errorResponse(404, 'unhandled', 'no listener handled this Slack request');
  }
}
