import { z } from 'zod';
import { slackThreadId } from '../../../graph/ids.js';
import {
  checkedSignals,
  invalidFromZod,
  type ParseContext,
  type ParseResult,
  type WebhookHeaders,
} from '../../parse.js';
import { clip, MAX_SUMMARY_LENGTH, signalId, type Signal } from '../../signal.js';

const slackTs = z
  .string({ error: 'is required: the message ts' })
  .regex(/^\d{1,12}\.\d{1,9}$/, 'must be a Slack ts such as 1355517523.000005');
const slackId = z.string().regex(/^[A-Z0-9]{1,32}$/, 'must be a Slack id such as C123ABC456');

/** An Events API delivery (`event_callback`); `url_verification` and other types carry no message. */
export const slackEnvelopeSchema = z.object(
  {
    type: z.string({ error: 'is required, e.g. event_callback' }),
    team_id: z.string().max(64).optional(),
    event_id: z.string().max(256).optional(),
    event: z.record(z.string(), z.unknown()).optional(),
  },
  { error: 'must be a JSON object (a Slack Events API body)' },
);

const messageSchema = z.object({
  type: z.literal('message'),
  subtype: z.string().optional(),
  channel: slackId,
  channel_type: z.string().optional(),
  user: z.string().max(64).optional(),
  bot_id: z.string().max(64).optional(),
  text: z.string({ error: 'must be a string' }).optional(),
  ts: slackTs,
  thread_ts: slackTs.optional(),
  team: z.string().max(64).optional(),
});

/** Message subtypes that are someone saying something; edits, deletions and joins are not ingested. */
const SPOKEN_SUBTYPES = new Set([undefined, 'bot_message', 'thread_broadcast', 'file_share', 'me_message']);

/** What the Slack parser needs besides the common context. */
export interface SlackParseContext extends ParseContext {
  /** Channel ids to ingest; messages elsewhere are ignored. Absent: every channel the app sees. */
  channels?: readonly string[];
}

/**
 * Turns a Slack Events API `event_callback` carrying a `message` event into one `message` signal
 * (fingerprint: team, channel and ts; entity: the Slack thread it belongs to). Other envelopes,
 * other events, edits, deletions and messages outside `context.channels` give no signal. Mentions
 * and relationship statements are extracted later, from the queued signal. Pure; never throws.
 */
export function parseSlack(body: unknown, _headers: WebhookHeaders, context: SlackParseContext): ParseResult {
  const envelope = slackEnvelopeSchema.safeParse(body);
  if (!envelope.success) return invalidFromZod('not a Slack Events API body', envelope.error);
  if (envelope.data.type !== 'event_callback' || envelope.data.event?.type !== 'message') return { ok: [] };
  const parsed = messageSchema.safeParse(envelope.data.event);
  if (!parsed.success) {
    const error = new z.ZodError(
      parsed.error.issues.map((issue) => ({ ...issue, path: ['event', ...issue.path] })),
    );
    return invalidFromZod('not a Slack message event', error);
  }
  const message = parsed.data;
  if (!SPOKEN_SUBTYPES.has(message.subtype)) return { ok: [] };
  if (context.channels && !context.channels.includes(message.channel)) return { ok: [] };
  const team = envelope.data.team_id ?? message.team ?? 'unknown';
  const fingerprint = `slack/${team}/${message.channel}/${message.ts}`;
  const text = message.text ?? '';
  const thread = message.thread_ts ?? message.ts;
  const attributes: Signal['attributes'] = {
    team,
    channel: message.channel,
    ts: message.ts,
    threadTs: thread,
    text: clip(text, 8000, ''),
  };
  if (message.channel_type) attributes.channelType = message.channel_type;
  if (message.user) attributes.user = message.user;
  if (message.bot_id) attributes.botId = message.bot_id;
  if (message.subtype) attributes.subtype = message.subtype;
  const signal: Signal = {
    v: 1,
    id: signalId('slack', fingerprint, 'message', message.ts),
    source: 'slack',
    kind: 'message',
    fingerprint,
    severity: 'info',
    entities: [
      {
        kind: 'SlackThread',
        id: slackThreadId(message.channel, thread),
        name: `${message.channel} ${thread}`,
      },
    ],
    observedAt: Math.trunc(Number(message.ts) * 1000),
    receivedAt: context.receivedAt,
    summary: clip(text, MAX_SUMMARY_LENGTH, '(message without text)'),
    attributes,
    raw: {
      source: 'events-api/slack',
      digest: context.digest,
      ...(envelope.data.event_id ? { deliveryId: envelope.data.event_id } : {}),
    },
  };
  return checkedSignals('the Slack message does not form a valid signal', [signal]);
}
