import { Redis } from 'ioredis';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { approvalsApiRoutes } from '../../src/integrations/slack/approvals-api.js';
import { createHttpApp } from '../../src/server/http.js';
import { createMetrics } from '../../src/app/metrics.js';
import { HealthRegistry } from '../../src/app/health.js';
import { createLogger, silentLogger } from '../../src/shared/logger.js';
import { Secret } from '../../src/shared/secret.js';
import { slackSignature } from '../../src/sim/vendors/slack/signing.js';
import {
  startSlackTestWorld,
  waitFor,
  BOT_TOKEN,
  SIGNING_SECRET,
  type SlackTestWorld,
} from './slack-world.js';

const redisUrl = inject('redisUrl');

function approvalInput(id: string, approvers: string[], threadTs?: string) {
  return {
    approvalId: id,
    incidentId: 'inc_checkout_5xx',
    title: 'Roll back checkout to revision 41',
    plan: 'PATCH deployments/checkout (json-patch): /spec/template ← revision 41',
    confidence: 0.87,
    evidenceUrl: 'https://nightshift.example/incidents/inc_checkout_5xx',
    approvers,
    ...(threadTs ? { threadTs } : {}),
  };
}

describe('Slack approvals with the real Bolt app and the sim Slack server', () => {
  let env: SlackTestWorld | undefined;
  afterEach(async () => {
    await env?.close();
    env = undefined;
  });

  it('the sim on-call approves: one decision, the message shows who decided and then the outcome', async () => {
    env = await startSlackTestWorld(redisUrl, { approvals: 'approve' });
    const replica = await env.addReplica();
    const oncall = env.sim.workspace.user('oncall').id;
    const thread = await replica.slack.postIncidentThread({
      incidentId: 'inc_checkout_5xx',
      title: 'checkout 5xx',
      severity: 'critical',
    });
    const record = await replica.slack.requestApproval(approvalInput('apr_oncall', [oncall], thread.ts));
    expect(record).toMatchObject({ channel: thread.channel, threadTs: thread.ts });
    await waitFor(() => replica.decisions.length === 1);
    await env.sim.onCall?.idle();
    expect(env.sim.onCall?.answers).toEqual([
      expect.objectContaining({ approvalId: 'apr_oncall', status: 200 }),
    ]);
    expect(replica.decisions[0]).toMatchObject({
      approvalId: 'apr_oncall',
      incidentId: 'inc_checkout_5xx',
      decision: 'approved',
      by: oncall,
      via: 'slack',
    });
    const message = await env.approvalMessage('apr_oncall');
    expect(message?.threadTs).toBe(thread.ts);
    const shown = JSON.stringify(message?.blocks);
    expect(shown).toContain(`Approved by <@${oncall}>`);
    expect(shown).toContain('Executing');
    expect(shown).not.toContain('"type":"actions"');

    await replica.slack.reportOutcome('apr_oncall', {
      status: 'succeeded',
      summary: 'checkout healthy at revision 41',
    });
    expect(JSON.stringify((await env.approvalMessage('apr_oncall'))?.blocks)).toContain(
      'succeeded: checkout healthy at revision 41',
    );
    expect(env.sim.calls.filter((call) => call.method === 'chat.update')).toHaveLength(2);
  });

  it('three concurrent clicks on two replicas sharing Redis decide once; the losers are told', async () => {
    env = await startSlackTestWorld(redisUrl);
    const [first, second] = [await env.addReplica(), await env.addReplica()];
    if (!first || !second) throw new Error('replicas missing');
    env.groups.set('S0ONCALL', [env.sim.workspace.user('alice').id, env.sim.workspace.user('bob').id]);
    await first.slack.requestApproval(approvalInput('apr_race', ['S0ONCALL']));

    const results = await Promise.all([
      env.click(first, 'apr_race', 'alice'),
      env.click(second, 'apr_race', 'bob'),
      env.click(first, 'apr_race', 'bob'),
    ]);
    expect(results.map((result) => result.status)).toEqual([200, 200, 200]);
    await Promise.all(env.replicas.map((replica) => replica.slack.receiver.idle()));

    expect(env.decisions()).toHaveLength(1);
    const winner = env.decisions()[0];
    expect(winner?.decision).toBe('approved');
    expect([env.sim.workspace.user('alice').id, env.sim.workspace.user('bob').id]).toContain(winner?.by);
    const told = [...env.ephemeralsTo('alice'), ...env.ephemeralsTo('bob')];
    expect(told).toHaveLength(2);
    for (const message of told) expect(message.text).toMatch(/already approved by <@U/);
    expect(env.sim.calls.filter((call) => call.method === 'chat.update')).toHaveLength(1);
    expect(await first.slack.approvals.store.decision('apr_race')).toMatchObject({
      decision: 'approved',
      via: 'slack',
    });
  });

  it('refuses a non-approver with an ephemeral message and leaves the approval open', async () => {
    env = await startSlackTestWorld(redisUrl);
    const replica = await env.addReplica();
    const alice = env.sim.workspace.user('alice').id;
    env.groups.set('S0ONCALL', [alice]);
    await replica.slack.requestApproval(approvalInput('apr_guard', ['S0ONCALL']));

    const refused = await env.click(replica, 'apr_guard', 'mallory');
    expect(refused.status).toBe(200);
    await replica.slack.receiver.idle();
    const [refusal] = env.ephemeralsTo('mallory');
    expect(refusal?.text).toBe('You are not an approver for this action. Approvers: <!subteam^S0ONCALL>.');
    expect(replica.decisions).toEqual([]);
    expect(await replica.slack.approvals.store.decision('apr_guard')).toBeUndefined();

    await env.click(replica, 'apr_guard', 'alice', 'reject');
    await replica.slack.receiver.idle();
    expect(replica.decisions).toEqual([expect.objectContaining({ decision: 'rejected', by: alice })]);
    expect(JSON.stringify((await env.approvalMessage('apr_guard'))?.blocks)).toContain(
      `Rejected by <@${alice}>`,
    );
  });

  it('rejects unsigned, forged and stale interactions with 401 and decides nothing', async () => {
    env = await startSlackTestWorld(redisUrl);
    const replica = await env.addReplica();
    const alice = env.sim.workspace.user('alice').id;
    await replica.slack.requestApproval(approvalInput('apr_forged', [alice]));
    const body = `payload=${encodeURIComponent(
      JSON.stringify({
        type: 'block_actions',
        user: { id: alice },
        actions: [{ type: 'button', action_id: 'approve', value: 'apr_forged' }],
      }),
    )}`;
    const url = `${replica.server.url}/slack/interactions`;
    const now = Math.floor(Date.now() / 1000);
    const attempts: Array<Record<string, string>> = [
      {},
      {
        'x-slack-request-timestamp': String(now),
        'x-slack-signature': slackSignature('wrong-secret', now, body),
      },
      {
        'x-slack-request-timestamp': String(now - 360),
        'x-slack-signature': slackSignature(SIGNING_SECRET, now - 360, body),
      },
      {
        'x-slack-request-timestamp': String(now),
        'x-slack-signature': slackSignature(SIGNING_SECRET, now, `${body}x`),
      },
    ];
    for (const headers of attempts) {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body,
      });
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ error: { code: 'unauthorized' } });
    }
    expect(replica.decisions).toEqual([]);
    expect(await replica.slack.approvals.store.decision('apr_forged')).toBeUndefined();
  });

  it('expires an undecided approval once across replicas, calls onExpired, and refuses later clicks', async () => {
    env = await startSlackTestWorld(redisUrl);
    const [first, second] = [await env.addReplica(), await env.addReplica({ expirySweepMs: 10 })];
    if (!first || !second) throw new Error('replicas missing');
    const alice = env.sim.workspace.user('alice').id;
    const record = await first.slack.requestApproval(approvalInput('apr_late', [alice]));
    expect(record.expiresAt - record.requestedAt).toBe(15 * 60_000);

    expect(await first.slack.approvals.sweepExpired()).toBe(0);
    env.clock.advance(15 * 60_000);
    await second.slack.start();
    const swept = await Promise.all([
      first.slack.approvals.sweepExpired(),
      first.slack.approvals.sweepExpired(),
    ]);
    await waitFor(() => env!.replicas.some((replica) => replica.expired.length > 0));
    await second.slack.stop();
    expect(swept.reduce((sum, count) => sum + count, 0)).toBeLessThanOrEqual(1);
    expect(env.replicas.flatMap((replica) => replica.expired).map((expired) => expired.id)).toEqual([
      'apr_late',
    ]);
    expect(JSON.stringify((await env.approvalMessage('apr_late'))?.blocks)).toContain(
      'Expired with no decision',
    );

    const click = await env.click(first, 'apr_late', 'alice');
    expect(click.status).toBe(200);
    await first.slack.receiver.idle();
    expect(env.decisions()).toEqual([]);
    expect(env.ephemeralsTo('alice').at(-1)?.text).toBe('This request was already expired.');
  });

  it('a click after the deadline but before the sweep expires the approval instead of approving it', async () => {
    env = await startSlackTestWorld(redisUrl);
    const replica = await env.addReplica();
    const alice = env.sim.workspace.user('alice').id;
    await replica.slack.requestApproval({ ...approvalInput('apr_edge', [alice]), ttlMs: 60_000 });
    env.clock.advance(60_000);
    await env.click(replica, 'apr_edge', 'alice');
    await replica.slack.receiver.idle();
    expect(replica.decisions).toEqual([]);
    expect(replica.expired.map((expired) => expired.id)).toEqual(['apr_edge']);
    expect(env.ephemeralsTo('alice').at(-1)?.text).toBe(
      'This request expired before your click; it was escalated.',
    );
  });
});

describe('Slack approvals when things go wrong', () => {
  let env: SlackTestWorld | undefined;
  afterEach(async () => {
    await env?.close();
    env = undefined;
  });

  it('tells the clicker to retry when Redis is unreachable, and logs no token or signing secret', async () => {
    env = await startSlackTestWorld(redisUrl);
    const lines: string[] = [];
    const logger = createLogger({
      level: 'debug',
      destination: { write: (line: string) => lines.push(line) },
    });
    const healthy = await env.addReplica({ logger });
    const deadRedis = new Redis('redis://127.0.0.1:1', {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    deadRedis.on('error', () => undefined);
    const broken = await env.addReplica({ redis: deadRedis, logger });
    const alice = env.sim.workspace.user('alice').id;
    await healthy.slack.requestApproval(approvalInput('apr_down', [alice]));

    expect((await env.click(broken, 'apr_down', 'alice')).status).toBe(200);
    await broken.slack.receiver.idle();
    expect(env.ephemeralsTo('alice').at(-1)?.text).toBe(
      'nightshift could not record your decision just now; please click again.',
    );
    expect(env.decisions()).toEqual([]);
    await env.click(healthy, 'apr_down', 'alice');
    await healthy.slack.receiver.idle();
    expect(env.decisions()).toEqual([expect.objectContaining({ approvalId: 'apr_down', by: alice })]);
    deadRedis.disconnect();

    const everything = lines.join('\n');
    expect(everything).toContain('could not handle an approval click');
    expect(everything).not.toContain(BOT_TOKEN);
    expect(everything).not.toContain(SIGNING_SECRET);
  });
});

describe('the approvals HTTP API', () => {
  let env: SlackTestWorld | undefined;
  afterEach(async () => {
    await env?.close();
    env = undefined;
  });

  it('needs the bearer token, decides once atomically with Slack, and answers 404/409/410', async () => {
    env = await startSlackTestWorld(redisUrl);
    const replica = await env.addReplica();
    const alice = env.sim.workspace.user('alice').id;
    const api = createHttpApp({
      bodyLimitBytes: 10_000,
      health: new HealthRegistry(),
      metrics: createMetrics(),
      logger: silentLogger(),
      routes: [
        approvalsApiRoutes({
          approvals: replica.slack.approvals,
          token: new Secret('api-token-1'),
          logger: silentLogger(),
        }),
      ],
    });
    const call = (path: string, token?: string, body?: unknown) =>
      api.request(path, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });

    await replica.slack.requestApproval(approvalInput('apr_api', [alice]));
    const anonymous = await call('/api/approvals/apr_api/approve');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer realm="nightshift"');
    expect((await call('/api/approvals/apr_api/approve', 'api-token-2')).status).toBe(401);
    expect((await call('/api/approvals/apr_api/approve', 'api-token-1', { by: 'bad name!' })).status).toBe(
      400,
    );
    expect((await call('/api/approvals/apr_nope/approve', 'api-token-1')).status).toBe(404);

    const [viaApi, viaSlack] = await Promise.all([
      call('/api/approvals/apr_api/approve', 'api-token-1', { by: 'carol' }),
      env.click(replica, 'apr_api', 'alice', 'reject'),
    ]);
    await replica.slack.receiver.idle();
    expect(viaSlack.status).toBe(200);
    expect(replica.decisions).toHaveLength(1);
    const decided = replica.decisions[0];
    if (decided?.via === 'api') {
      expect(viaApi.status).toBe(200);
      expect(await viaApi.json()).toMatchObject({
        approvalId: 'apr_api',
        decision: 'approved',
        by: 'api:carol',
      });
      expect(JSON.stringify((await env.approvalMessage('apr_api'))?.blocks)).toContain(
        'Approved by carol (API)',
      );
    } else {
      expect(viaApi.status).toBe(409);
      expect(decided).toMatchObject({ decision: 'rejected', by: alice });
    }
    const again = await call('/api/approvals/apr_api/reject', 'api-token-1');
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ error: { code: 'already_decided' } });

    await replica.slack.requestApproval(approvalInput('apr_api_late', [alice]));
    env.clock.advance(16 * 60_000);
    const late = await call('/api/approvals/apr_api_late/approve', 'api-token-1');
    expect(late.status).toBe(410);
    expect(replica.expired.map((record) => record.id)).toEqual(['apr_api_late']);
    expect(replica.decisions).toHaveLength(1);
  });
});
