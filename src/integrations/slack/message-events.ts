import type { App } from '@slack/bolt';
import type { Clock } from '../../shared/clock.js';

/** A human message from a watched channel, with what the ingest parser needs. */
export interface SlackMessageDelivery {
  /** The Events API body (`event_callback`), as Slack sent it. */
  envelope: Record<string, unknown>;
  channel: string;
  user?: string;
  text: string;
  ts: string;
  threadTs?: string;
  /** `sha256:<hex>` of the exact bytes received. */
  digest: string;
  receivedAt: number;
}

/** What the message listener needs. */
export interface MessageEventsOptions {
  /** Channel ids to forward. Absent: every channel the bot is in. */
  channels?: readonly string[];
  clock: Clock;
  onMessage: (delivery: SlackMessageDelivery) => void | Promise<void>;
}

/**
 * Forwards `message` events from watched channels to `onMessage` (the bot's own messages are
 * dropped by Bolt). The receiver answers Slack only after `onMessage` resolved; a throw makes
 * it answer 500 and Slack redeliver. `digest` and `receivedAt` come from the receiver's
 * per-request properties.
 */
export function registerMessageEvents(bolt: App, options: MessageEventsOptions): void {
  bolt.event('message', async ({ event, body, context }) => {
    const message = event as unknown as Record<string, unknown>;
    const channel = typeof message.channel === 'string' ? message.channel : '';
    if (options.channels && !options.channels.includes(channel)) return;
    if (typeof message.ts !== 'string') return;
    await options.onMessage({
      envelope: body,
      channel,
      text: typeof message.text === 'string' ? message.text : '',
      ts: message.ts,
      ...(typeof message.user === 'string' ? { user: message.user } : {}),
      ...(typeof message.thread_ts === 'string' ? { threadTs: message.thread_ts } : {}),
      digest: typeof context.digest === 'string' ? context.digest : '',
      receivedAt: typeof context.receivedAt === 'number' ? context.receivedAt : options.clock.now(),
    });
  });
}
