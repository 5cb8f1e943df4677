import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { datastoreId, serviceId } from '../../../src/graph/ids.js';
import { rawDigest } from '../../../src/ingest/parse.js';
import { applyGraphWrites } from '../../../src/ingest/pollers/poller.js';
import { redisSlackMessageLog } from '../../../src/ingest/pollers/slack/message-feed.js';
import { slackMentionsPoller } from '../../../src/ingest/pollers/slack/slack-mentions.js';
import type { Signal } from '../../../src/ingest/signal.js';
import { parseSlack } from '../../../src/ingest/sources/slack/parse.js';
import { systemClock } from '../../../src/shared/clock.js';
import { silentLogger } from '../../../src/shared/logger.js';
import { openTestGraph } from '../../kit/graph.js';
import { testPrefix } from '../../kit/prefix.js';
import { makeSignal } from '../../loop/support/loop-world.js';

const FIXTURE = new URL('../../fixtures/signals/slack/message-channel.json', import.meta.url);
const open: Array<() => Promise<unknown>> = [];

afterEach(async () => {
  for (const close of open.splice(0)) await close();
});

/** A Slack message signal parsed from the documented message event, with its text and ts replaced. */
function message(text: string, ts: string): Signal {
  const body = JSON.parse(readFileSync(FIXTURE, 'utf8')) as { event: Record<string, unknown> };
  body.event = { ...body.event, text, ts, event_ts: ts };
  const raw = Buffer.from(JSON.stringify(body));
  const parsed = parseSlack(
    JSON.parse(raw.toString()),
    {},
    { receivedAt: Date.now(), digest: rawDigest(raw) },
  );
  if (!('ok' in parsed) || !parsed.ok[0]) throw new Error('the fixture did not parse as a message');
  return parsed.ok[0];
}

function connection(): { redis: Redis; prefix: string } {
  const redis = new Redis(inject('redisUrl'));
  const prefix = testPrefix(import.meta.filename);
  open.push(async () => {
    await redis.del(`${prefix}:slack:messages`);
    await redis.quit();
  });
  return { redis, prefix };
}

describe('the Slack message log', () => {
  it('keeps Slack messages only and reads them after a cursor, a batch at a time', async () => {
    const { redis, prefix } = connection();
    const log = redisSlackMessageLog({ connection: redis, prefix, batch: 2 });
    const first = message('checkout is slow again', '1700000000.000100');
    const second = message('cart depends on redis-session', '1700000000.000200');
    const third = message('all good now', '1700000000.000300');
    await log.append(first);
    await log.append(makeSignal({ fingerprint: 'NotAMessage' }));
    await log.append(second);
    // An entry another version wrote, which no longer reads as a signal, is passed over.
    await redis.xadd(`${prefix}:slack:messages`, '*', 'signal', '{"not":"a signal"}');
    await log.append(third);

    const start = await log.read(undefined);
    expect(start.messages.map((one) => one.id)).toEqual([first.id, second.id]);
    const next = await log.read(start.cursor);
    expect(next.messages.map((one) => one.id)).toEqual([third.id]);
    expect(next.messages[0]).toEqual(third);
    const end = await log.read(next.cursor);
    expect(end).toEqual({ messages: [], cursor: next.cursor });
    expect(await log.read(undefined).then((read) => read.messages.length)).toBe(2);
  });

  it('stays near its cap, the oldest trimmed first', async () => {
    const { redis, prefix } = connection();
    const log = redisSlackMessageLog({ connection: redis, prefix, maxLength: 10, batch: 1_000 });
    for (let index = 0; index < 300; index++)
      await log.append(message(`note ${index}`, `1700000000.${String(index).padStart(6, '0')}`));
    const length = await redis.xlen(`${prefix}:slack:messages`);
    expect(length).toBeGreaterThanOrEqual(10);
    expect(length).toBeLessThan(300);
    const kept = (await log.read(undefined)).messages.map((one) => one.attributes.text);
    expect(kept.at(-1)).toBe('note 299');
    expect(kept).not.toContain('note 0');
  });

  it('feeds the mentions poller, which records the dependency a message states', async () => {
    const { redis, prefix } = connection();
    const graph = await openTestGraph({});
    open.push(() => graph.close());
    await graph.upsertEntities([
      { id: serviceId('cart'), kind: 'Service', name: 'cart', source: 'kubernetes' },
      {
        id: datastoreId('redis', 'redis-session'),
        kind: 'Datastore',
        name: 'redis-session',
        source: 'kubernetes',
      },
    ]);
    const log = redisSlackMessageLog({ connection: redis, prefix });
    await log.append(message('cart depends on redis-session', '1700000000.000100'));
    const poller = slackMentionsPoller({ feed: log, workspaceUrl: 'https://shop.slack.com' });
    const result = await poller.poll(poller.initialState(), {
      graph,
      clock: systemClock,
      logger: silentLogger(),
      signal: new AbortController().signal,
    });
    if (result.graphWrites) await applyGraphWrites(graph, result.graphWrites);
    expect(result.nextState.cursor).not.toBeNull();
    const needs = await graph.neighbors(serviceId('cart'), { kinds: ['DEPENDS_ON'], direction: 'out' });
    expect(needs.map((reached) => [reached.entity.id, reached.path[0]?.confidence])).toEqual([
      [datastoreId('redis', 'redis-session'), 0.3],
    ]);
  });
});
