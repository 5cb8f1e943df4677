import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { labelsFingerprint } from '../../../src/sim/vendors/alertmanager/fingerprint.js';
import { AlertmanagerSender } from '../../../src/sim/vendors/alertmanager/sender.js';
import { FakeWorld, T0 } from './fake-world.js';

const FIXTURES = new URL('./fixtures/alertmanager/', import.meta.url);
const fixtures = readdirSync(FIXTURES).map((name) => ({
  name,
  body: JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8')) as unknown,
}));

const labels = z.record(z.string(), z.string());
const isoTime = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
/** The webhook body exactly as the real fixtures have it: every field, nothing more. */
const webhookSchema = z.strictObject({
  version: z.literal('4'),
  groupKey: z.string().regex(/^\{.*\}:\{.*\}$/),
  truncatedAlerts: z.int().nonnegative(),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string().min(1),
  groupLabels: labels,
  commonLabels: labels,
  commonAnnotations: labels,
  externalURL: z.url(),
  alerts: z
    .array(
      z.strictObject({
        status: z.enum(['firing', 'resolved']),
        labels,
        annotations: labels,
        startsAt: isoTime,
        endsAt: isoTime,
        generatorURL: z.url(),
        fingerprint: z.string().regex(/^[0-9a-f]{16}$/),
      }),
    )
    .min(1),
});
type Webhook = z.infer<typeof webhookSchema>;

interface Receiver {
  url: string;
  bodies: Webhook[];
  raw: unknown[];
  authorizations: Array<string | undefined>;
  /** Statuses to answer next, then 200. */
  failWith: number[];
}

describe('Alertmanager webhook sender', () => {
  const servers: Server[] = [];
  const senders: AlertmanagerSender[] = [];
  afterEach(async () => {
    await Promise.all(senders.splice(0).map((sender) => sender.stop()));
    await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
  });

  async function receiver(): Promise<Receiver> {
    const state: Receiver = { url: '', bodies: [], raw: [], authorizations: [], failWith: [] };
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const status = state.failWith.shift() ?? 200;
        if (status === 200) {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
          state.raw.push(body);
          state.authorizations.push(request.headers.authorization);
          const parsed = webhookSchema.safeParse(body);
          if (parsed.success) state.bodies.push(parsed.data);
        }
        response.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/alertmanager`;
    return state;
  }

  it('has a schema that accepts every real fixture, and fingerprints as Alertmanager does', () => {
    for (const fixture of fixtures)
      expect(webhookSchema.safeParse(fixture.body).success, fixture.name).toBe(true);
    const crashLooping = webhookSchema.parse(
      fixtures.find((f) => f.name === '11_KubePodCrashLooping.firing.json')?.body,
    );
    const watchdog = webhookSchema.parse(fixtures.find((f) => f.name === '13_Watchdog.firing.json')?.body);
    for (const alert of [...crashLooping.alerts, ...watchdog.alerts])
      expect(labelsFingerprint(alert.labels)).toBe(alert.fingerprint);
  });

  it('fires when the error rate crosses its SLO for a minute, repeats, then resolves when it recovers', async () => {
    const world = new FakeWorld();
    world.overrides.push({
      service: 'checkout',
      metric: 'errorRate',
      from: T0 + 60_000,
      to: T0 + 300_000,
      value: 0.35,
    });
    const target = await receiver();
    const sender = new AlertmanagerSender(world, {
      url: target.url,
      bearerToken: 'am-token',
      repeatIntervalMs: 120_000,
      generatorUrl: 'http://127.0.0.1:9090',
    });
    senders.push(sender);
    expect(sender.rules.map((rule) => `${rule.service}/${rule.name}`)).toEqual([
      'checkout/HighErrorRate',
      'checkout/HighLatencyP99',
      'payments/HighErrorRate',
      'payments/HighLatencyP99',
    ]);
    const sentAt: number[] = [];
    for (let t = T0; t <= T0 + 600_000; t += 15_000) {
      if (t > T0) world.advance(15_000);
      const before = target.bodies.length;
      await sender.evaluate();
      if (target.bodies.length > before) sentAt.push((world.now() - T0) / 1000);
    }
    expect(target.raw).toHaveLength(target.bodies.length);
    expect(sentAt).toEqual([120, 240, 300]);
    expect(target.bodies.map((body) => body.status)).toEqual(['firing', 'firing', 'resolved']);
    expect(target.authorizations).toEqual(['Bearer am-token', 'Bearer am-token', 'Bearer am-token']);
    const [first, , resolved] = target.bodies;
    expect(first).toMatchObject({
      version: '4',
      groupKey: '{}:{service="checkout"}',
      receiver: 'nightshift',
      groupLabels: { service: 'checkout' },
      commonLabels: {
        alertname: 'HighErrorRate',
        service: 'checkout',
        namespace: 'shop',
        severity: 'critical',
      },
      commonAnnotations: {
        summary: 'checkout error rate is above its SLO',
        description: 'checkout error rate is 0.35 (SLO 0.01).',
      },
    });
    expect(first?.alerts).toHaveLength(1);
    expect(first?.alerts[0]).toMatchObject({
      status: 'firing',
      startsAt: new Date(T0 + 120_000).toISOString(),
      endsAt: '0001-01-01T00:00:00Z',
    });
    expect(first?.alerts[0]?.generatorURL).toBe(
      'http://127.0.0.1:9090/graph?g0.expr=nightshift_sim_error_rate%7Bservice%3D%22checkout%22%7D+%3E+0.01&g0.tab=1',
    );
    expect(resolved?.alerts[0]).toMatchObject({
      status: 'resolved',
      startsAt: new Date(T0 + 120_000).toISOString(),
      endsAt: new Date(T0 + 300_000).toISOString(),
      fingerprint: first?.alerts[0]?.fingerprint,
    });
    expect(sender.firing()).toEqual([]);
  });

  it('retries a refused notification at the next evaluation and still delivers the resolution', async () => {
    const world = new FakeWorld();
    world.overrides.push({
      service: 'payments',
      metric: 'latencyP99Ms',
      from: T0,
      to: T0 + 60_000,
      value: 900,
    });
    const target = await receiver();
    target.failWith.push(500, 503);
    const sender = new AlertmanagerSender(world, {
      url: target.url,
      rules: [
        {
          name: 'PaymentsSlow',
          service: 'payments',
          metric: 'latencyP99Ms',
          op: '>',
          threshold: 250,
          for: '0s',
          severity: 'warning',
          labels: { team: 'payments' },
        },
      ],
    });
    senders.push(sender);
    await sender.evaluate();
    world.advance(15_000);
    await sender.evaluate();
    expect(target.bodies).toHaveLength(0);
    world.advance(15_000);
    await sender.evaluate();
    expect(target.bodies.map((body) => body.status)).toEqual(['firing']);
    expect(target.bodies[0]?.commonLabels).toEqual({
      alertname: 'PaymentsSlow',
      service: 'payments',
      namespace: 'shop',
      severity: 'warning',
      team: 'payments',
    });
    target.failWith.push(500);
    world.advance(60_000);
    await sender.evaluate();
    await sender.evaluate();
    expect(target.bodies.map((body) => body.status)).toEqual(['firing', 'resolved']);
    expect(sender.notifications.map((n) => n.status)).toEqual([500, 503, 200, 500, 200]);
  });

  it('stamps each evaluation with its scheduled time, so a late tick does not delay `for`', async () => {
    // T0 is on the 15 s schedule: ticks are due at T0, T0 + 15 s, … The error rate is above
    // the SLO from 40 s, so it is first seen at the 45 s tick and has held 1 minute at 105 s.
    const world = new FakeWorld();
    world.overrides.push({
      service: 'checkout',
      metric: 'errorRate',
      from: T0 + 40_000,
      to: T0 + 600_000,
      value: 0.35,
    });
    const target = await receiver();
    const sender = new AlertmanagerSender(world, {
      url: target.url,
      evaluationIntervalMs: 15_000,
      pollMs: 2,
    });
    senders.push(sender);
    sender.start();
    const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
    await pause(30);
    // The 45 s tick runs 1.4 s late, the others 0.2 s. Stamped by when it ran, the condition
    // would count from 46.4 s, and the tick run at 105.2 s would find it held only 58.8 s.
    for (const due of [15_000, 30_000, 45_000, 60_000, 75_000, 90_000, 105_000]) {
      world.advance(T0 + due + (due === 45_000 ? 1_400 : 200) - world.now());
      await pause(30);
    }
    const deadline = Date.now() + 2_000;
    while (target.bodies.length === 0 && Date.now() < deadline) await pause(5);
    expect(target.bodies.map((body) => body.status)).toEqual(['firing']);
    expect(target.bodies[0]?.alerts[0]?.startsAt).toBe(new Date(T0 + 105_000).toISOString());
  });

  it('runs on sim time by itself, and posts explicit bodies verbatim', async () => {
    const world = new FakeWorld({ live: true, speed: 200 });
    const start = world.now();
    world.overrides.push({
      service: 'checkout',
      metric: 'errorRate',
      from: start + 30_000,
      to: start + 150_000,
      value: 0.2,
    });
    const target = await receiver();
    const sender = new AlertmanagerSender(world, {
      url: target.url,
      evaluationIntervalMs: 15_000,
      pollMs: 5,
      rules: [
        {
          name: 'CheckoutErrors',
          service: 'checkout',
          metric: 'errorRate',
          op: '>',
          threshold: 0.05,
          for: '30s',
        },
      ],
    });
    senders.push(sender);
    sender.start();
    const deadline = Date.now() + 5_000;
    while (target.bodies.filter((body) => body.status === 'resolved').length === 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(target.bodies.map((body) => body.status)).toEqual(['firing', 'resolved']);
    const firedAt = Date.parse(target.bodies[0]?.alerts[0]?.startsAt ?? '');
    expect(firedAt - start).toBeGreaterThanOrEqual(60_000);
    // Not before the condition held for `for` (30 s from 30 s), and before the error rate recovered.
    expect(firedAt - start).toBeLessThan(150_000);

    const explicit = fixtures.find((f) => f.name === '12_KubePodNotReady.firing.json')?.body;
    const notification = await sender.sendAlert(explicit);
    expect(notification).toMatchObject({ status: 200, origin: 'explicit' });
    expect(target.raw.at(-1)).toEqual(explicit);
  });
});
