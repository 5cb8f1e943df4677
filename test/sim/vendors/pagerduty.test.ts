import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startPagerDutyServer, type PagerDutyServer } from '../../../src/sim/vendors/pagerduty/server.js';
import { FakeWorld } from './fake-world.js';

const ROUTING_KEY = 'R0123456789abcdef0123456789ABCDE';

describe('PagerDuty Events API v2 server (plain fetch)', () => {
  let world: FakeWorld;
  let server: PagerDutyServer;

  beforeEach(async () => {
    world = new FakeWorld();
    server = await startPagerDutyServer(world);
  });

  afterEach(async () => {
    await server.stop();
  });

  async function enqueue(body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(`${server.url}/v2/enqueue`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  const trigger = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    routing_key: ROUTING_KEY,
    event_action: 'trigger',
    payload: {
      summary: 'checkout 5xx above SLO',
      source: 'nightshift',
      severity: 'critical',
      component: 'checkout',
      custom_details: { incident: 'inc_1' },
    },
    ...extra,
  });

  it('accepts a trigger with 202 and generates a dedup key when none is given', async () => {
    const first = await enqueue(trigger());
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({ status: 'success', message: 'Event processed' });
    expect(first.body.dedup_key).toMatch(/^[0-9a-f]{32}$/);
    const second = await enqueue(trigger());
    expect(second.body.dedup_key).not.toBe(first.body.dedup_key);
    expect(server.incidents).toHaveLength(2);
    expect(server.incidents[0]).toMatchObject({
      number: 1,
      status: 'triggered',
      summary: 'checkout 5xx above SLO',
      severity: 'critical',
      component: 'checkout',
      customDetails: { incident: 'inc_1' },
    });
  });

  it('keeps incident state per dedup key through trigger, dedup, acknowledge and resolve', async () => {
    const key = 'nightshift/inc_42';
    expect((await enqueue(trigger({ dedup_key: key }))).body.dedup_key).toBe(key);
    world.advance(5_000);
    await enqueue(trigger({ dedup_key: key }));
    expect(server.incident(key)).toMatchObject({ status: 'triggered', triggers: 2 });
    world.advance(5_000);
    expect(
      (await enqueue({ routing_key: ROUTING_KEY, event_action: 'acknowledge', dedup_key: key })).status,
    ).toBe(202);
    expect(server.incident(key)?.status).toBe('acknowledged');
    world.advance(5_000);
    await enqueue({ routing_key: ROUTING_KEY, event_action: 'resolve', dedup_key: key });
    expect(server.incident(key)).toMatchObject({
      status: 'resolved',
      openedAt: world.now() - 15_000,
      acknowledgedAt: world.now() - 5_000,
      resolvedAt: world.now(),
    });
    await enqueue({ routing_key: ROUTING_KEY, event_action: 'acknowledge', dedup_key: key });
    await enqueue({ routing_key: ROUTING_KEY, event_action: 'resolve', dedup_key: 'never-seen' });
    expect(server.events.map((event) => event.effect)).toEqual([
      'opened',
      'deduplicated',
      'acknowledged',
      'resolved',
      'ignored',
      'ignored',
    ]);
    await enqueue(trigger({ dedup_key: key }));
    expect(
      server.incidents.filter((incident) => incident.dedupKey === key).map((incident) => incident.status),
    ).toEqual(['resolved', 'triggered']);
  });

  it('answers validation errors exactly in PagerDuty’s shape', async () => {
    const shortKey = await enqueue({
      routing_key: 'abc',
      event_action: 'trigger',
      payload: { summary: 's', source: 'x', severity: 'critical' },
    });
    expect(shortKey).toEqual({
      status: 400,
      body: {
        status: 'invalid event',
        message: 'Event object is invalid',
        errors: ["Length of 'routing_key' is incorrect (should be 32 characters)"],
      },
    });
    const nonAlphanumeric = await enqueue({
      routing_key: 'e+23rschqsESqk9Q6_-g',
      event_action: 'trigger',
      payload: { summary: 's', source: 'x', severity: 'critical' },
    });
    expect(nonAlphanumeric.body.errors).toEqual([
      "Length of 'routing_key' is incorrect (should be 32 characters)",
      "'routing_key' cannot contain non-alphanumeric characters.",
    ]);
    const noAction = await enqueue({ routing_key: ROUTING_KEY });
    expect(noAction.body.errors).toEqual(["'event_action' is missing or blank"]);
    const badSeverity = await enqueue(trigger({ payload: { summary: 's', source: 'x', severity: 'fatal' } }));
    expect(badSeverity.body.errors).toEqual([
      "'payload.severity' is invalid (must be one of the following: 'critical', 'warning', 'error' or 'info')",
    ]);
    const noSummary = await enqueue(trigger({ payload: { source: 'x', severity: 'info' } }));
    expect(noSummary.body.errors).toEqual(["'payload.summary' is missing or blank"]);
    const resolveWithoutKey = await enqueue({ routing_key: ROUTING_KEY, event_action: 'resolve' });
    expect(resolveWithoutKey.body.errors).toEqual(["'dedup_key' is missing or blank"]);
    const notJson = await enqueue('{not json');
    expect(notJson.status).toBe(400);
    expect(notJson.body.status).toBe('invalid event');
    expect(server.events).toHaveLength(0);
    expect(server.attempts.map((attempt) => attempt.status)).toEqual([400, 400, 400, 400, 400, 400, 400]);
  });

  it('injects 429 and 500 on demand so a sender can retry', async () => {
    server.failNext(2, 429);
    server.failNext(1, 500);
    const statuses: number[] = [];
    let reply: { status: number; body: Record<string, unknown> } | undefined;
    for (let attempt = 0; attempt < 5; attempt++) {
      reply = await enqueue(trigger({ dedup_key: 'retry-me' }));
      statuses.push(reply.status);
      if (reply.status === 202) break;
    }
    expect(statuses).toEqual([429, 429, 500, 202]);
    expect(reply?.body.dedup_key).toBe('retry-me');
    expect(server.incident('retry-me')?.triggers).toBe(1);
  });
});
