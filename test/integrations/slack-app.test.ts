import { afterEach, describe, expect, inject, it } from 'vitest';
import { parseSlack } from '../../src/ingest/sources/slack/parse.js';
import { slackSignature } from '../../src/sim/vendors/slack/signing.js';
import { startSlackTestWorld, SIGNING_SECRET, type Replica, type SlackTestWorld } from './slack-world.js';

const redisUrl = inject('redisUrl');

/** A slash command as Slack sends it: a signed form body. */
async function command(
  replica: Replica,
  env: SlackTestWorld,
  userName: string,
  text: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const user = env.sim.workspace.user(userName);
  const channel = env.sim.workspace.channelId('incidents') ?? '';
  const body = new URLSearchParams({
    token: 'sim-verification-token',
    team_id: env.sim.workspace.teamId,
    team_domain: env.sim.workspace.teamDomain,
    channel_id: channel,
    channel_name: 'incidents',
    user_id: user.id,
    user_name: user.name,
    command: '/nightshift',
    text,
    api_app_id: env.sim.workspace.appId,
    response_url: `${env.sim.url}/commands/response`,
    trigger_id: '13345224609.738474920.8088930838d88f008e0',
  }).toString();
  const timestamp = Math.floor(Date.now() / 1000);
  const response = await fetch(`${replica.server.url}/slack/events`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': slackSignature(SIGNING_SECRET, timestamp, body),
    },
    body,
  });
  const reply = await response.text();
  return { status: response.status, body: reply ? (JSON.parse(reply) as Record<string, unknown>) : {} };
}

describe('the Slack app on the daemon HTTP server', () => {
  let env: SlackTestWorld | undefined;
  afterEach(async () => {
    await env?.close();
    env = undefined;
  });

  it('posts one incident thread per incident, and the report and shadow suggestion into it', async () => {
    env = await startSlackTestWorld(redisUrl);
    const [first, second] = [await env.addReplica(), await env.addReplica()];
    if (!first || !second) throw new Error('replicas missing');
    const input = {
      incidentId: 'inc_1',
      title: 'checkout 5xx above SLO',
      severity: 'critical',
      summary: 'error rate 12% <!channel> since 12:03',
      url: 'https://nightshift.example/incidents/inc_1',
    };
    const thread = await first.slack.postIncidentThread(input);
    expect(await second.slack.postIncidentThread(input)).toEqual(thread);
    expect(await second.slack.threadFor('inc_1')).toEqual(thread);
    const roots = env.sim.messages.filter((message) => message.text.startsWith('Incident:'));
    expect(roots).toHaveLength(1);
    expect(roots[0]).toMatchObject({ channelName: 'incidents', ts: thread.ts });
    expect(JSON.stringify(roots[0]?.blocks)).toContain('error rate 12% &lt;!channel&gt; since 12:03');

    await second.slack.postReport(thread, {
      rootCause: 'deploy v41 exhausted the orders DB pool',
      confidence: 0.82,
      evidence: [{ summary: 'errors began 40 s after rollout', url: 'https://grafana.example/d/1' }],
      proposedAction: 'roll back checkout to v40',
      ruledOut: ['node pressure'],
    });
    await first.slack.postSuggestion(thread, {
      action: 'restart payments',
      reason: 'memory leak pattern seen 3 times',
      confidence: 0.7,
      policy: 'shadow-payments',
    });
    const replies = env.sim.messages.filter(
      (message) => message.threadTs === thread.ts && message.ts !== thread.ts,
    );
    expect(replies.map((message) => message.text)).toEqual([
      'Likely root cause (82%): deploy v41 exhausted the orders DB pool',
      'Shadow mode: would restart payments',
    ]);
    expect(JSON.stringify(replies[0]?.blocks)).toContain(
      '<https://grafana.example/d/1|errors began 40 s after rollout>',
    );
    expect(JSON.stringify(replies[1]?.blocks)).toContain('Nothing was changed.');
  });

  it('routes /nightshift pause and resume to the kill switch, and explains bad usage', async () => {
    env = await startSlackTestWorld(redisUrl);
    const replica = await env.addReplica();
    const paused = await command(replica, env, 'alice', 'pause bad deploy in progress');
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({ response_type: 'in_channel' });
    expect(String(paused.body.text)).toContain('nightshift paused by <@');
    const resumed = await command(replica, env, 'alice', 'resume');
    expect(resumed.status).toBe(200);
    expect(replica.killSwitch).toEqual([
      { action: 'pause', by: env.sim.workspace.user('alice').id, reason: 'bad deploy in progress' },
      { action: 'resume', by: env.sim.workspace.user('alice').id },
    ]);
    const unknown = await command(replica, env, 'alice', 'explode');
    expect(unknown.body).toMatchObject({ response_type: 'ephemeral' });
    expect(String(unknown.body.text)).toContain('unknown subcommand "explode"');
    expect(replica.killSwitch).toHaveLength(2);
  });

  it('lets only the configured users use the kill switch when a list is given', async () => {
    env = await startSlackTestWorld(redisUrl);
    env.groups.set('S0SRE', [env.sim.workspace.user('alice').id]);
    const replica = await env.addReplica({ commandUsers: ['S0SRE'] });
    const refused = await command(replica, env, 'mallory', 'resume');
    expect(refused.body).toEqual({ response_type: 'ephemeral', text: 'You may not resume nightshift.' });
    expect(replica.killSwitch).toEqual([]);
    await command(replica, env, 'alice', 'pause');
    expect(replica.killSwitch).toEqual([{ action: 'pause', by: env.sim.workspace.user('alice').id }]);
  });

  it('forwards human messages in watched channels, parseable by the ingest Slack parser', async () => {
    env = await startSlackTestWorld(redisUrl);
    const replica = await env.addReplica({
      messageChannels: [env.sim.workspace.channelId('incidents') ?? ''],
    });
    const delivered = await env.sim.say({
      channel: 'incidents',
      user: 'alice',
      text: 'checkout broke right after v41',
    });
    expect(delivered?.status).toBe(200);
    const ignored = await env.sim.say({ channel: 'random', user: 'bob', text: 'lunch?' });
    expect(ignored?.status).toBe(200);
    expect(replica.messages).toHaveLength(1);
    const [message] = replica.messages;
    expect(message).toMatchObject({
      channel: env.sim.workspace.channelId('incidents'),
      user: env.sim.workspace.user('alice').id,
      text: 'checkout broke right after v41',
    });
    expect(message?.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    const parsed = parseSlack(
      message?.envelope,
      {},
      { receivedAt: message?.receivedAt ?? 0, digest: message?.digest ?? '' },
    );
    expect(parsed).toMatchObject({ ok: [expect.objectContaining({ source: 'slack', kind: 'message' })] });
  });

  it('answers 500 when the message handler fails, so Slack redelivers', async () => {
    env = await startSlackTestWorld(redisUrl);
    await env.addReplica({
      onMessage: () => {
        throw new Error('queue unavailable');
      },
    });
    const delivered = await env.sim.say({ channel: 'incidents', user: 'alice', text: 'hello' });
    expect(delivered?.status).toBe(500);
  });

  it('answers url_verification and ssl_check, and 400 for a signed body that is not a payload', async () => {
    env = await startSlackTestWorld(redisUrl);
    const replica = await env.addReplica();
    const post = (body: string, contentType: string, signed = true) => {
      const timestamp = Math.floor(Date.now() / 1000);
      return fetch(`${replica.server.url}/slack/events`, {
        method: 'POST',
        headers: {
          'content-type': contentType,
          ...(signed
            ? {
                'x-slack-request-timestamp': String(timestamp),
                'x-slack-signature': slackSignature(SIGNING_SECRET, timestamp, body),
              }
            : {}),
        },
        body,
      });
    };
    const challenge = await post(
      JSON.stringify({ type: 'url_verification', challenge: 'c-123' }),
      'application/json',
    );
    expect(await challenge.json()).toEqual({ challenge: 'c-123' });
    expect(
      (await post(JSON.stringify({ type: 'url_verification', challenge: 'x' }), 'application/json', false))
        .status,
    ).toBe(401);
    expect((await post('ssl_check=1&token=abc', 'application/x-www-form-urlencoded', false)).status).toBe(
      200,
    );
    expect((await post('not json', 'application/json')).status).toBe(400);
  });
});
