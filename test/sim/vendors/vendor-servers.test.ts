import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhooks } from '@octokit/webhooks';
import { App, LogLevel, type BlockAction, type ButtonAction } from '@slack/bolt';
import { afterEach, describe, expect, it } from 'vitest';
import { startVendorServers, type VendorServers } from '../../../src/sim/vendors/index.js';
import { FakeWorld, T0 } from './fake-world.js';

const SIGNING_SECRET = 'daemon-signing-secret';
const GITHUB_SECRET = 'daemon-github-secret';

interface Captured {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

async function captureServer(servers: Server[]): Promise<{ url: string; captured: Captured[] }> {
  const captured: Captured[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      captured.push({
        path: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, captured };
}

describe('startVendorServers', () => {
  const servers: Server[] = [];
  const cleanup: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
    await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
  });

  it('starts every server on loopback and delivers the timeline to a daemon', async () => {
    const world = new FakeWorld({ live: true, speed: 60, approvals: 'approve' });
    world.overrides.push({ service: 'checkout', metric: 'errorRate', from: T0, value: 0.4 });
    const vendors: VendorServers = await startVendorServers(world, {
      slack: { signingSecret: SIGNING_SECRET, approvalDelayMs: 0, pollMs: 5 },
      alertmanager: { enabled: false },
      anthropic: {
        apiKey: 'sk-test',
        script: { steps: [{ reply: { content: [{ type: 'text', text: 'ok' }] } }] },
      },
    });
    cleanup.push(() => vendors.stop());
    for (const url of Object.values(vendors.urls)) expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+/);

    const sink = await captureServer(servers);
    const received: string[] = [];
    const clicked = new Promise<string>((resolve) => {
      const app = new App({
        token: 'xoxb-sim-token',
        signingSecret: SIGNING_SECRET,
        logLevel: LogLevel.ERROR,
        logger: {
          debug: () => undefined,
          info: () => undefined,
          warn: () => undefined,
          error: () => undefined,
          setLevel: () => undefined,
          getLevel: () => LogLevel.ERROR,
          setName: () => undefined,
        },
        clientOptions: { slackApiUrl: vendors.urls.slackApi, retryConfig: { retries: 0 } },
      });
      app.message(async ({ message }) => {
        received.push((message as { text?: string }).text ?? '');
        await app.client.chat.postMessage({
          channel: (message as { channel: string }).channel,
          text: 'approve rollback?',
          blocks: [
            {
              type: 'actions',
              elements: [
                {
                  type: 'button',
                  action_id: 'approve',
                  value: 'apr_7',
                  text: { type: 'plain_text', text: 'Approve' },
                },
              ],
            },
          ],
        });
      });
      app.action<BlockAction<ButtonAction>>('approve', async ({ ack, action }) => {
        await ack();
        resolve(action.value ?? '');
      });
      cleanup.push(() => app.stop());
      void app.start({ port: 0, host: '127.0.0.1' }).then((server) => {
        const port = ((server as Server).address() as AddressInfo).port;
        vendors.connectDaemon({
          slackEventsUrl: `http://127.0.0.1:${port}/slack/events`,
          alertmanagerUrl: `${sink.url}/alertmanager`,
          alertmanagerToken: 'am-token',
          githubUrl: `${sink.url}/github`,
          githubSecret: GITHUB_SECRET,
          datadogWebhookUrl: `${sink.url}/datadog`,
        });
        world.emit('slack', { channel: '#checkout', user: 'alice', text: 'anyone else seeing 500s?' });
      });
    });
    expect(await clicked).toBe('apr_7');
    expect(received).toEqual(['anyone else seeing 500s?']);

    world.emit('deploy', {
      service: 'checkout',
      image: 'shop/checkout:3.1.0',
      sha: 'c'.repeat(40),
      message: 'Bump pricing',
    });
    world.emit('alert', { source: 'alertmanager', body: {} });
    const explicit = JSON.parse(
      readFileSync(new URL('./fixtures/alertmanager/13_Watchdog.firing.json', import.meta.url), 'utf8'),
    ) as unknown;
    world.emit('alert', { source: 'alertmanager', body: explicit });
    world.emit('alert', { source: 'datadog', body: { title: 'checkout 5xx', alert_type: 'error' } });
    world.emit('alert', { source: 'pagerduty', body: { event: {} } });
    await vendors.idle();

    const github = sink.captured.filter((c) => c.path === '/github');
    expect(github.map((c) => c.headers['x-github-event'])).toEqual([
      'push',
      'deployment',
      'deployment_status',
    ]);
    const verifier = new Webhooks({ secret: GITHUB_SECRET });
    for (const delivery of github)
      expect(await verifier.verify(delivery.body, String(delivery.headers['x-hub-signature-256']))).toBe(
        true,
      );
    expect(
      (JSON.parse(github[0]?.body ?? '{}') as { repository: { full_name: string } }).repository.full_name,
    ).toBe('shop/checkout');

    const alerts = sink.captured.filter((c) => c.path === '/alertmanager');
    expect(alerts).toHaveLength(2);
    expect(alerts.every((c) => c.headers.authorization === 'Bearer am-token')).toBe(true);
    const bodies = alerts.map(
      (c) => JSON.parse(c.body) as { groupLabels?: Record<string, string>; status?: string },
    );
    expect(bodies).toContainEqual(explicit);
    expect(bodies).toContainEqual(
      expect.objectContaining({ status: 'firing', groupLabels: { service: 'checkout' } }),
    );
    expect(
      sink.captured.filter((c) => c.path === '/datadog').map((c) => JSON.parse(c.body) as unknown),
    ).toEqual([{ title: 'checkout 5xx', alert_type: 'error' }]);
    expect(vendors.deliveries.find((d) => d.name === 'pagerduty')?.skipped).toBe(
      'no webhook URL for pagerduty',
    );
    expect(vendors.deliveries.filter((d) => d.kind === 'github').map((d) => d.status)).toEqual([
      200, 200, 200,
    ]);

    const prometheus = (await (
      await fetch(
        `${vendors.urls.prometheus}/api/v1/query?query=${encodeURIComponent('nightshift_sim_error_rate{service="checkout"}')}`,
      )
    ).json()) as { data: { result: Array<{ value: [number, string] }> } };
    expect(prometheus.data.result[0]?.value[1]).toBe('0.4');
    expect((await fetch(`${vendors.urls.datadog}/api/v1/query?from=1&to=2&query=x`)).status).toBe(403);
    expect((await fetch(`${vendors.urls.pagerduty}/v2/enqueue`, { method: 'POST', body: '{}' })).status).toBe(
      400,
    );
    expect(new Set(world.requested.map((r) => r.server))).toEqual(
      new Set(['slack', 'prometheus', 'datadog', 'pagerduty']),
    );
    expect(world.requested.find((r) => r.server === 'pagerduty')).toMatchObject({
      method: 'POST',
      path: '/v2/enqueue',
      write: true,
      status: 400,
    });
  });

  it('refuses an Anthropic script file that breaks the schema, and leaves nothing running', async () => {
    const world = new FakeWorld();
    await expect(
      startVendorServers(world, {
        anthropic: { scriptPath: new URL('./fixtures/github/push.json', import.meta.url).pathname },
      }),
    ).rejects.toThrow(/steps/);
  });
});
