import { randomBytes } from 'node:crypto';
import { slackSignature } from './signing.js';

/** What the receiving app answered. */
export interface DeliveryResult {
  status: number;
  body: string;
}

/** A Slack `message` event (the inner `event` of an `event_callback`). */
export interface SlackMessageEvent {
  type: 'message';
  channel: string;
  user: string;
  text: string;
  ts: string;
  thread_ts?: string;
  channel_type?: string;
  [key: string]: unknown;
}

/** Who the event is for: the workspace and the app's bot. */
export interface EventContext {
  teamId: string;
  apiAppId: string;
  botUserId: string;
}

const DEFAULT_CONTEXT: EventContext = {
  teamId: 'T0SIMTEAM1',
  apiAppId: 'A0SIMAPP01',
  botUserId: 'U0SIMBOT01',
};

/** Options of a signed delivery. */
export interface DeliveryOptions {
  /** Wall time (seconds) to sign with; defaults to now. Slack apps refuse timestamps older than 5 minutes. */
  timestampSeconds?: number;
  /** Abort the request after this many ms (default 10 s). */
  timeoutMs?: number;
}

async function postSigned(
  targetUrl: string,
  signingSecret: string,
  body: string,
  contentType: string,
  options: DeliveryOptions,
): Promise<DeliveryResult> {
  const timestamp = options.timestampSeconds ?? Math.floor(Date.now() / 1000);
  const response = await fetch(targetUrl, {
    method: 'POST',
    headers: {
      'content-type': contentType,
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': slackSignature(signingSecret, timestamp, body),
      'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
    },
    body,
    signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
  });
  return { status: response.status, body: await response.text() };
}

/** The Events API envelope Slack wraps an event in. */
export function eventCallback(
  event: SlackMessageEvent,
  context: EventContext = DEFAULT_CONTEXT,
): Record<string, unknown> {
  const eventTime = Math.floor(Number(event.ts));
  return {
    token: 'sim-verification-token',
    team_id: context.teamId,
    api_app_id: context.apiAppId,
    event: { channel_type: 'channel', event_ts: event.ts, team: context.teamId, ...event },
    type: 'event_callback',
    event_id: `Ev${randomBytes(5).toString('hex').toUpperCase()}`,
    event_time: Number.isFinite(eventTime) ? eventTime : Math.floor(Date.now() / 1000),
    authorizations: [
      {
        enterprise_id: null,
        team_id: context.teamId,
        user_id: context.botUserId,
        is_bot: true,
        is_enterprise_install: false,
      },
    ],
    is_ext_shared_channel: false,
  };
}

/**
 * POSTs an Events API `event_callback` carrying `event` to an app's events URL (Bolt's
 * `/slack/events`), signed with v0 signatures. Never retries; rejects only on network failure.
 */
export function deliverEvent(
  targetUrl: string,
  signingSecret: string,
  event: SlackMessageEvent,
  context?: EventContext,
  options: DeliveryOptions = {},
): Promise<DeliveryResult> {
  return postSigned(
    targetUrl,
    signingSecret,
    JSON.stringify(eventCallback(event, context)),
    'application/json',
    options,
  );
}

/**
 * POSTs an interaction (`block_actions`) as Slack does: form body `payload=<urlencoded JSON>`,
 * signed with v0 signatures. Never retries; rejects only on network failure.
 */
export function deliverBlockAction(
  targetUrl: string,
  signingSecret: string,
  payload: Record<string, unknown>,
  options: DeliveryOptions = {},
): Promise<DeliveryResult> {
  return postSigned(
    targetUrl,
    signingSecret,
    `payload=${encodeURIComponent(JSON.stringify(payload))}`,
    'application/x-www-form-urlencoded',
    options,
  );
}
