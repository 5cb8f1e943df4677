import { describe, expect, it } from 'vitest';
import { parseSlack, type SlackParseContext } from '../../../src/ingest/sources/slack/parse.js';
import { contextFor, fixture } from '../fixtures.js';

function parse(name: string, extra: Partial<SlackParseContext> = {}) {
  const { body, text } = fixture('slack', name);
  return parseSlack(body, {}, { ...contextFor(text), ...extra });
}

describe('the Slack parser', () => {
  it('turns a channel message into a message signal about its thread', () => {
    const result = parse('message-channel');
    expect(result).toEqual({
      ok: [
        expect.objectContaining({
          source: 'slack',
          kind: 'message',
          severity: 'info',
          fingerprint: 'slack/T123ABC456/C123ABC456/1355517523.000005',
          observedAt: 1355517523000,
          summary: 'Live long and prospect.',
          entities: [
            {
              kind: 'SlackThread',
              id: 'slack:C123ABC456/1355517523.000005',
              name: 'C123ABC456 1355517523.000005',
            },
          ],
          raw: {
            source: 'events-api/slack',
            deliveryId: 'Ev123ABC456',
            digest: contextFor(fixture('slack', 'message-channel').text).digest,
          },
        }),
      ],
    });
  });

  it('puts a reply in the thread of its parent and keeps its text for mention extraction', () => {
    const result = parse('message-thread-reply');
    expect(result).toHaveProperty('ok.0.entities.0.id', 'slack:C123ABC456/1355517523.000005');
    expect(result).toHaveProperty(
      'ok.0.attributes.text',
      'checkout and session share the same redis, so this might be the eviction again',
    );
    expect(result).toHaveProperty('ok.0.attributes.user', 'U223ABC456');
  });

  it('ignores edits, URL verification and channels outside the configured ones', () => {
    expect(parse('message-changed')).toEqual({ ok: [] });
    expect(parse('url-verification')).toEqual({ ok: [] });
    expect(parse('message-channel', { channels: ['C999'] })).toEqual({ ok: [] });
    expect(parse('message-channel', { channels: ['C123ABC456'] })).toHaveProperty('ok.length', 1);
  });

  it('names what is wrong with a malformed message event', () => {
    const result = parseSlack(
      { type: 'event_callback', event: { type: 'message', channel: 'general', ts: 'now', text: 5 } },
      {},
      contextFor('x'),
    );
    expect(result).toHaveProperty('error');
    if ('error' in result) {
      expect(result.error.issues.map((issue) => issue.path).sort()).toEqual([
        'event.channel',
        'event.text',
        'event.ts',
      ]);
    }
    expect(parseSlack([], {}, contextFor('x'))).toHaveProperty('error.code', 'invalid_payload');
  });
});
