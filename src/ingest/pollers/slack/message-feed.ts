import type { Redis } from 'ioredis';
import { signalSchema, type Signal } from '../../signal.js';
import type { SlackMessageFeed } from './slack-mentions.js';

/** A Slack message feed the daemon writes as it ingests messages. */
export interface SlackMessageLog extends SlackMessageFeed {
  /** Keeps a Slack `message` signal for the feed's readers; other signals are ignored. */
  append(signal: Signal): Promise<void>;
}

/**
 * The Slack messages the daemon has ingested, in a capped Redis stream
 * (`<prefix>:slack:messages`, about `maxLength` entries, the oldest trimmed first). The ingest
 * stage appends each Slack `message` signal once it is in the graph; the mentions poller reads
 * after its cursor, which is the id of the last entry it read, `batch` entries at a time. A reader
 * that falls more than `maxLength` behind misses what was trimmed. Signals are redacted before
 * they are queued, so the stream holds only what the graph holds. An entry that no longer reads
 * as a signal (written by another version) is skipped.
 */
export function redisSlackMessageLog(options: {
  connection: Redis;
  prefix: string;
  maxLength?: number;
  batch?: number;
}): SlackMessageLog {
  const key = `${options.prefix}:slack:messages`;
  const maxLength = options.maxLength ?? 10_000;
  const batch = options.batch ?? 500;
  return {
    async append(signal) {
      if (signal.source !== 'slack' || signal.kind !== 'message') return;
      await options.connection.xadd(key, 'MAXLEN', '~', maxLength, '*', 'signal', JSON.stringify(signal));
    },
    async read(cursor) {
      const entries = await options.connection.xrange(
        key,
        cursor === undefined ? '-' : `(${cursor}`,
        '+',
        'COUNT',
        batch,
      );
      const messages: Signal[] = [];
      for (const [, fields] of entries) {
        const index = fields.indexOf('signal');
        if (index === -1) continue;
        const parsed = signalSchema.safeParse(jsonOrNull(fields[index + 1]));
        if (parsed.success) messages.push(parsed.data);
      }
      return { messages, cursor: entries.at(-1)?.[0] ?? cursor };
    },
  };
}

function jsonOrNull(text: string | undefined): unknown {
  if (text === undefined) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}
