import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PagerDutyEventsClient, type EscalationInput } from '../../src/integrations/pagerduty/events.js';
import { backoffDelay, retryAfterMs } from '../../src/integrations/pagerduty/retry.js';
import { SystemError } from '../../src/shared/errors.js';
import { createLogger } from '../../src/shared/logger.js';
import { Secret } from '../../src/shared/secret.js';
import { startPagerDutyServer, type PagerDutyServer } from '../../src/sim/vendors/pagerduty/server.js';
import { FakeWorld } from '../sim/vendors/fake-world.js';

const ROUTING_KEY = 'R0123456789abcdef0123456789ABCDE';

const ESCALATION: EscalationInput = {
  incidentId: 'inc_checkout_5xx',
  summary: 'checkout: 5xx rate 12% after deploy v41',
  severity: 'critical',
  source: 'shop/checkout',
  component: 'checkout',
  rootCause: 'deploy v41 exhausted the orders DB pool',
  confidence: 0.62,
  evidence: [
    { summary: 'errors began 40 s after rollout', url: 'https://grafana.example/d/checkout' },
    { summary: 'pool wait p99 at 2 s' },
  ],
  proposedAction: 'roll back checkout to v40',
  reason: 'confidence below the autonomy threshold',
  links: [{ href: 'https://nightshift.example/incidents/inc_checkout_5xx', text: 'incident' }],
};

/** A logger whose lines are kept, to check what reaches the log. */
function capturingLogger(): { lines: string[]; logger: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  const logger = createLogger({ level: 'debug', destination: { write: (line: string) => lines.push(line) } });
  return { lines, logger };
}

describe('PagerDuty Events API v2 client against the sim', () => {
  let world: FakeWorld;
  let server: PagerDutyServer;
  const waits: number[] = [];

  beforeEach(async () => {
    world = new FakeWorld();
    server = await startPagerDutyServer(world);
    waits.length = 0;
  });
  afterEach(async () => {
    await server.stop();
  });

  function client(logger = capturingLogger().logger): PagerDutyEventsClient {
    return new PagerDutyEventsClient({
      routingKey: new Secret(ROUTING_KEY),
      eventsUrl: `${server.url}/v2/enqueue`,
      client: 'nightshift',
      clientUrl: 'https://nightshift.example',
      logger,
      random: () => 0.5,
      sleep: (ms) => {
        waits.push(ms);
        return Promise.resolve();
      },
    });
  }

  it('triggers with the incident id as dedup key, then acknowledges and resolves the same incident', async () => {
    const pagerduty = client();
    const triggered = await pagerduty.trigger(ESCALATION);
    expect(triggered).toEqual({ dedupKey: 'inc_checkout_5xx', attempts: 1 });
    const incident = server.incident('inc_checkout_5xx');
    expect(incident).toMatchObject({
      status: 'triggered',
      summary: ESCALATION.summary,
      severity: 'critical',
      source: 'shop/checkout',
      component: 'checkout',
      customDetails: {
        incident_id: 'inc_checkout_5xx',
        root_cause: 'deploy v41 exhausted the orders DB pool',
        confidence: 0.62,
        evidence: [
          'errors began 40 s after rollout (https://grafana.example/d/checkout)',
          'pool wait p99 at 2 s',
        ],
        proposed_action: 'roll back checkout to v40',
        escalation_reason: 'confidence below the autonomy threshold',
      },
    });
    const sent = server.events[0]?.event;
    expect(sent?.links).toEqual([
      { href: 'https://nightshift.example/incidents/inc_checkout_5xx', text: 'incident' },
      { href: 'https://grafana.example/d/checkout', text: 'errors began 40 s after rollout' },
    ]);
    expect(sent?.client).toBe('nightshift');

    await pagerduty.trigger(ESCALATION);
    expect(server.incident('inc_checkout_5xx')?.triggers).toBe(2);
    await pagerduty.acknowledge('inc_checkout_5xx');
    expect(server.incident('inc_checkout_5xx')?.status).toBe('acknowledged');
    await pagerduty.resolve('inc_checkout_5xx');
    expect(server.incident('inc_checkout_5xx')?.status).toBe('resolved');
    expect(server.events.map((event) => event.effect)).toEqual([
      'opened',
      'deduplicated',
      'acknowledged',
      'resolved',
    ]);
    expect(server.incidents).toHaveLength(1);
  });

  it('retries 429 and 5xx with growing backoff and succeeds once the service recovers', async () => {
    server.failNext(1, 429);
    server.failNext(1, 503);
    server.failNext(1, 500);
    const result = await client().trigger(ESCALATION);
    expect(result.attempts).toBe(4);
    expect(server.attempts.map((attempt) => attempt.status)).toEqual([429, 503, 500, 202]);
    expect(waits).toEqual([500, 1000, 2000]);
    expect(server.incidents).toHaveLength(1);
  });

  it('gives up after maxAttempts with a retryable error', async () => {
    server.failNext(5, 502);
    const error = await client()
      .resolve('inc_checkout_5xx')
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SystemError);
    expect(error).toMatchObject({ code: 'pagerduty_unavailable', retryable: true });
    expect((error as Error).message).toContain('after 5 attempts: HTTP 502');
    expect(server.attempts).toHaveLength(5);
  });

  it("does not retry a 400 and names PagerDuty's reasons, without the routing key anywhere", async () => {
    const { lines, logger } = capturingLogger();
    const bad = new PagerDutyEventsClient({
      routingKey: new Secret(`${ROUTING_KEY}XYZ`),
      eventsUrl: `${server.url}/v2/enqueue`,
      logger,
      sleep: () => Promise.reject(new Error('must not wait')),
    });
    const error = await bad.trigger(ESCALATION).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'pagerduty_rejected', retryable: false });
    expect((error as Error).message).toBe(
      "PagerDuty refused the trigger event for inc_checkout_5xx (HTTP 400): Length of 'routing_key' is incorrect (should be 32 characters)",
    );
    expect(server.attempts).toHaveLength(1);
    await client(logger).trigger(ESCALATION);
    const everything = [...lines, (error as Error).message, JSON.stringify((error as SystemError).data)].join(
      '\n',
    );
    expect(lines.length).toBeGreaterThan(1);
    expect(everything).not.toContain(ROUTING_KEY);
  });
});

describe('PagerDuty client against a loopback server that sets Retry-After', () => {
  let server: Server;
  let url = '';
  const script: Array<{ status: number; headers?: Record<string, string>; body: unknown }> = [];
  afterEach(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  async function start(): Promise<void> {
    server = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        const next = script.shift() ?? { status: 202, body: { status: 'success', dedup_key: 'inc_1' } };
        response.writeHead(next.status, { 'content-type': 'application/json', ...next.headers });
        response.end(JSON.stringify(next.body));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v2/enqueue`;
  }

  it('waits as long as Retry-After asks (capped), then falls back to backoff', async () => {
    await start();
    script.push(
      { status: 429, headers: { 'retry-after': '3' }, body: { status: 'throttle event' } },
      { status: 429, headers: { 'retry-after': '120' }, body: { status: 'throttle event' } },
      { status: 503, body: 'upstream down' },
    );
    const waits: number[] = [];
    const pagerduty = new PagerDutyEventsClient({
      routingKey: new Secret(ROUTING_KEY),
      eventsUrl: url,
      maxDelayMs: 10_000,
      random: () => 0.5,
      sleep: (ms) => {
        waits.push(ms);
        return Promise.resolve();
      },
    });
    const result = await pagerduty.acknowledge('inc_1');
    expect(result).toEqual({ dedupKey: 'inc_1', attempts: 4 });
    expect(waits).toEqual([3000, 10_000, 2000]);
  });

  it('does not retry 403 and tells the operator what to check', async () => {
    await start();
    script.push({ status: 403, body: { status: 'forbidden', message: 'Forbidden' } });
    const error = await new PagerDutyEventsClient({ routingKey: new Secret(ROUTING_KEY), eventsUrl: url })
      .resolve('inc_1')
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'pagerduty_rejected', data: { status: 403, errors: ['Forbidden'] } });
    expect((error as Error).message).toContain('check integrations.pagerduty.routingKey and eventsUrl');
    expect(script).toHaveLength(0);
  });

  it('retries a refused connection and stops when the caller aborts', async () => {
    const controller = new AbortController();
    const pagerduty = new PagerDutyEventsClient({
      routingKey: new Secret(ROUTING_KEY),
      eventsUrl: 'http://127.0.0.1:1/v2/enqueue',
      sleep: () => {
        controller.abort(new Error('shutting down'));
        return Promise.resolve();
      },
    });
    await expect(pagerduty.resolve('inc_1', { signal: controller.signal })).rejects.toThrow('shutting down');
    server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
});

describe('retry timing helpers', () => {
  it('doubles from the base within ±20 % jitter and caps at the maximum', () => {
    expect(backoffDelay(1, { random: () => 0 })).toBe(400);
    expect(backoffDelay(3, { random: () => 0.999 })).toBeLessThanOrEqual(2400);
    expect(backoffDelay(20, { maxDelayMs: 5000 })).toBe(5000);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = Date.UTC(2026, 0, 1, 0, 0, 0);
    expect(retryAfterMs('2', now)).toBe(2000);
    expect(retryAfterMs(new Date(now + 7000).toUTCString(), now)).toBe(7000);
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs(null, now)).toBeUndefined();
  });
});
