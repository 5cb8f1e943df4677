import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, LogLevel, type BlockAction, type ButtonAction, type Logger as BoltLogger } from '@slack/bolt';
import { afterEach, describe, expect, it } from 'vitest';
import { blockActionPayload } from '../../../src/sim/vendors/slack/approval-buttons.js';
import { deliverBlockAction } from '../../../src/sim/vendors/slack/delivery.js';
import {
  startSlackServer,
  type SlackServer,
  type SlackServerOptions,
} from '../../../src/sim/vendors/slack/server.js';
import { FakeWorld } from './fake-world.js';

const SIGNING_SECRET = 'test-signing-secret';

/** Bolt's default logger writes to stdout; this one keeps errors for assertions. */
function quietLogger(errors: unknown[]): BoltLogger {
  let level = LogLevel.ERROR;
  return {
    debug: () => undefined,
    info: () => undefined,
    warn: () => undefined,
    error: (...message: unknown[]) => errors.push(message),
    setLevel: (next) => (level = next),
    getLevel: () => level,
    setName: () => undefined,
  };
}

function approvalBlocks(approvalId: string): unknown[] {
  return [
    {
      type: 'section',
      block_id: 'summary',
      text: { type: 'mrkdwn', text: '*Roll back checkout* to revision 41?' },
    },
    {
      type: 'actions',
      block_id: 'approval',
      elements: [
        {
          type: 'button',
          action_id: 'approve',
          value: approvalId,
          style: 'primary',
          text: { type: 'plain_text', text: 'Approve' },
        },
        {
          type: 'button',
          action_id: 'reject',
          value: approvalId,
          style: 'danger',
          text: { type: 'plain_text', text: 'Reject' },
        },
      ],
    },
  ];
}

describe('Slack server with the real @slack/bolt', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const step of cleanup.reverse()) await step();
    cleanup.length = 0;
  });

  async function setup(
    options: SlackServerOptions = {},
  ): Promise<{ world: FakeWorld; slack: SlackServer; app: App; errors: unknown[]; eventsUrl: string }> {
    const world = new FakeWorld({ live: true, speed: 60 });
    const slack = await startSlackServer(world, {
      signingSecret: SIGNING_SECRET,
      approvalDelayMs: 0,
      pollMs: 5,
      ...options,
    });
    cleanup.push(() => slack.stop());
    const errors: unknown[] = [];
    const app = new App({
      token: 'xoxb-sim-token',
      signingSecret: SIGNING_SECRET,
      logger: quietLogger(errors),
      clientOptions: { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } },
    });
    return { world, slack, app, errors, eventsUrl: '' };
  }

  async function startApp(app: App, slack: SlackServer): Promise<string> {
    const server = (await app.start({ port: 0, host: '127.0.0.1' })) as Server;
    cleanup.push(() => app.stop());
    const eventsUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;
    slack.connectApp({ eventsUrl });
    // Bolt verifies its token with auth.test in the background at construction.
    while (!slack.calls.some((call) => call.method === 'auth.test'))
      await new Promise((resolve) => setTimeout(resolve, 5));
    return eventsUrl;
  }

  it('serves auth.test at Bolt start, records chat.postMessage with blocks, and the on-call approves', async () => {
    const { slack, app, errors } = await setup({ approvals: 'approve' });
    const clicked = new Promise<BlockAction<ButtonAction>>((resolve) => {
      app.action<BlockAction<ButtonAction>>('approve', async ({ ack, body }) => {
        await ack();
        resolve(body);
      });
    });
    await startApp(app, slack);
    expect(slack.calls[0]).toMatchObject({ method: 'auth.test', ok: true });

    const posted = await app.client.chat.postMessage({
      channel: '#checkout',
      text: 'Approval needed: roll back checkout',
      blocks: approvalBlocks('apr_123') as never,
    });
    expect(posted.ok).toBe(true);
    const record = slack.messages[0];
    expect(record).toMatchObject({
      channelName: 'checkout',
      channel: posted.channel,
      ts: posted.ts,
      text: 'Approval needed: roll back checkout',
      user: slack.workspace.bot.id,
    });
    expect(record?.blocks).toEqual(approvalBlocks('apr_123'));

    const body = await clicked;
    expect(body.type).toBe('block_actions');
    expect(body.actions[0]).toMatchObject({
      action_id: 'approve',
      value: 'apr_123',
      block_id: 'approval',
      type: 'button',
    });
    expect(body.container).toMatchObject({
      type: 'message',
      message_ts: posted.ts,
      channel_id: posted.channel,
    });
    expect(body.message?.ts).toBe(posted.ts);
    await slack.onCall?.idle();
    expect(slack.onCall?.answers).toEqual([
      expect.objectContaining({ approvalId: 'apr_123', decision: 'approve', status: 200 }),
    ]);

    const who = await app.client.users.info({ user: body.user.id });
    expect(who.user?.name).toBe('oncall');
    const group = await app.client.usergroups.users.list({ usergroup: 'S0NIGHTSHIFT' });
    expect(group.users).toEqual([body.user.id]);
    await expect(app.client.usergroups.users.list({ usergroup: 'C0NOTAGROUP' })).rejects.toThrow(
      /no_such_subteam/,
    );
    const updated = await app.client.chat.update({
      channel: posted.channel ?? '',
      ts: posted.ts ?? '',
      text: 'Approved by oncall',
      blocks: [],
    });
    expect(updated.ok).toBe(true);
    const history = await app.client.conversations.history({ channel: posted.channel ?? '' });
    expect(history.messages?.map((m) => m.text)).toEqual(['Approved by oncall']);
    // The update re-announces the message; the on-call answers each approval id once.
    await slack.onCall?.idle();
    expect(slack.onCall?.answers).toHaveLength(1);
    expect(errors).toEqual([]);
  });

  it('answers reject when the scenario says so, and does nothing on ignore', async () => {
    const rejecting = await setup({ approvals: 'reject' });
    const rejected = new Promise<string>((resolve) => {
      rejecting.app.action<BlockAction<ButtonAction>>('reject', async ({ ack, action }) => {
        await ack();
        resolve(action.value ?? '');
      });
    });
    await startApp(rejecting.app, rejecting.slack);
    await rejecting.app.client.chat.postMessage({
      channel: '#ops',
      text: 'approve?',
      blocks: approvalBlocks('apr_9') as never,
    });
    expect(await rejected).toBe('apr_9');

    const ignoring = await setup({ approvals: 'ignore' });
    let clicks = 0;
    ignoring.app.action(/.*/, async ({ ack }) => {
      clicks++;
      await ack();
    });
    await startApp(ignoring.app, ignoring.slack);
    await ignoring.app.client.chat.postMessage({
      channel: '#ops',
      text: 'approve?',
      blocks: approvalBlocks('apr_10') as never,
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(clicks).toBe(0);
    expect(ignoring.slack.onCall?.answers).toEqual([
      expect.objectContaining({ approvalId: 'apr_10', decision: 'ignore' }),
    ]);
  });

  it('rejects a forged or stale signature with 401 and accepts the right one', async () => {
    const { slack, app } = await setup();
    let handled = 0;
    app.action('approve', async ({ ack }) => {
      handled++;
      await ack();
    });
    const eventsUrl = await startApp(app, slack);
    await app.client.chat.postMessage({
      channel: '#ops',
      text: 'approve?',
      blocks: approvalBlocks('apr_1') as never,
    });
    const message = slack.messages[0];
    if (!message) throw new Error('no message recorded');
    const payload = blockActionPayload({
      workspace: slack.workspace,
      message,
      button: {
        blockId: 'approval',
        actionId: 'approve',
        value: 'apr_1',
        text: { type: 'plain_text', text: 'Approve' },
      },
      user: slack.workspace.user('mallory'),
      responseUrl: `${slack.url}/actions/response/x/y`,
      actionTs: '1.000001',
    });
    expect((await deliverBlockAction(eventsUrl, 'not-the-secret', payload)).status).toBe(401);
    expect(
      (
        await deliverBlockAction(eventsUrl, SIGNING_SECRET, payload, {
          timestampSeconds: Math.floor(Date.now() / 1000) - 600,
        })
      ).status,
    ).toBe(401);
    expect(handled).toBe(0);
    const good = await deliverBlockAction(eventsUrl, SIGNING_SECRET, payload);
    expect(good.status).toBe(200);
    expect(handled).toBe(1);
  });

  it('delivers a human message as a signed event_callback to app.message', async () => {
    const { slack, app } = await setup();
    const received = new Promise<{ text?: string; user?: string; channel: string }>((resolve) => {
      app.message(({ message }) => {
        resolve(message);
        return Promise.resolve();
      });
    });
    await startApp(app, slack);
    const result = await slack.say({
      channel: '#checkout',
      user: 'alice',
      text: 'anyone else seeing 500s on checkout?',
    });
    expect(result?.status).toBe(200);
    const message = await received;
    expect(message.text).toBe('anyone else seeing 500s on checkout?');
    expect(message.user).toBe(slack.workspace.user('alice').id);
    expect(message.channel).toBe(slack.workspace.channelId('#checkout'));
    const reply = await app.client.chat.postMessage({
      channel: message.channel,
      thread_ts: slack.messages[0]?.ts ?? '',
      text: 'looking into it',
    });
    const thread = await app.client.conversations.replies({
      channel: message.channel,
      ts: slack.messages[0]?.ts ?? '',
    });
    expect(thread.messages?.map((m) => m.text)).toEqual([
      'anyone else seeing 500s on checkout?',
      'looking into it',
    ]);
    expect(thread.messages?.[1]?.ts).toBe(reply.ts);
  });

  it('builds block_actions payloads carrying every field of Slack’s real sample, and serves response_url', async () => {
    const { slack, app } = await setup({ approvals: 'approve' });
    let payload: Record<string, unknown> | undefined;
    app.action('approve', async ({ ack, body }) => {
      payload = body as unknown as Record<string, unknown>;
      await ack();
    });
    await startApp(app, slack);
    await app.client.chat.postMessage({
      channel: '#ops',
      text: 'approve?',
      blocks: approvalBlocks('apr_55') as never,
    });
    await slack.onCall?.idle();
    const sample = JSON.parse(
      readFileSync(new URL('./fixtures/slack/block_actions_button_click.json', import.meta.url), 'utf8'),
    ) as Record<string, unknown>;
    const missing = (expected: unknown, actual: unknown, path: string): string[] => {
      if (typeof expected !== 'object' || expected === null || Array.isArray(expected)) {
        return Array.isArray(expected) && Array.isArray(actual)
          ? missing(expected[0], actual[0], `${path}[0]`)
          : [];
      }
      if (typeof actual !== 'object' || actual === null) return [path];
      return Object.entries(expected).flatMap(([key, value]) =>
        // Enterprise Grid fields: the sim's workspace is not on a grid (Slack sends enterprise: null).
        key in actual || `${path}.${key}`.startsWith('.team.enterprise_')
          ? path === '' && key === 'enterprise'
            ? []
            : missing(value, (actual as Record<string, unknown>)[key], `${path}.${key}`)
          : [`${path}.${key}`],
      );
    };
    expect(payload).toBeDefined();
    expect(missing(sample, payload, '')).toEqual([]);

    const responseUrl = String(payload?.response_url);
    const replaced = await fetch(responseUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ replace_original: true, text: 'Approved by oncall', blocks: [] }),
    });
    expect(replaced.status).toBe(200);
    expect(slack.responses).toHaveLength(1);
    expect(slack.messages[0]).toMatchObject({ text: 'Approved by oncall', blocks: [], edits: 1 });
  });

  it('answers invalid_auth for a wrong token and not_authed without one', async () => {
    const { slack, app } = await setup();
    await startApp(app, slack);
    const wrong = await app.client.chat
      .postMessage({ token: 'xoxb-wrong', channel: '#ops', text: 'hi' })
      .catch((error: unknown) => error);
    expect((wrong as { data?: { error?: string } }).data?.error).toBe('invalid_auth');
    const bare = (await (await fetch(`${slack.apiUrl}auth.test`, { method: 'POST' })).json()) as {
      ok: boolean;
      error: string;
    };
    expect(bare).toEqual({ ok: false, error: 'not_authed' });
    const json = await fetch(`${slack.apiUrl}chat.postEphemeral`, {
      method: 'POST',
      headers: { authorization: 'Bearer xoxb-sim-token', 'content-type': 'application/json' },
      body: JSON.stringify({
        channel: '#ops',
        user: slack.workspace.user('bob').id,
        text: 'only you',
        blocks: [{ type: 'section', text: { type: 'plain_text', text: 'only you' } }],
      }),
    });
    expect(((await json.json()) as { ok: boolean }).ok).toBe(true);
    expect(slack.messages.at(-1)).toMatchObject({
      ephemeralUser: slack.workspace.user('bob').id,
      text: 'only you',
    });
  });
});
