import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { createMetrics } from '../../src/app/metrics.js';
import { HealthRegistry } from '../../src/app/health.js';
import type { ApprovalRecord } from '../../src/integrations/slack/approval-store.js';
import type { ApprovalDecision } from '../../src/integrations/slack/approvals.js';
import {
  createSlackApp,
  type KillSwitchRequest,
  type SlackAppOptions,
  type SlackIntegration,
  type SlackMessageDelivery,
} from '../../src/integrations/slack/app.js';
import { createHttpApp, listen, type RunningServer } from '../../src/server/http.js';
import { ManualClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { Secret } from '../../src/shared/secret.js';
import { blockActionPayload, findApprovalRequests } from '../../src/sim/vendors/slack/approval-buttons.js';
import { deliverBlockAction, type DeliveryResult } from '../../src/sim/vendors/slack/delivery.js';
import {
  startSlackServer,
  type SlackServer,
  type SlackServerOptions,
} from '../../src/sim/vendors/slack/server.js';
import type { SlackMessageRecord } from '../../src/sim/vendors/slack/workspace.js';
import { FakeWorld } from '../sim/vendors/fake-world.js';
import { testPrefix } from '../kit/prefix.js';

export const SIGNING_SECRET = 'integration-signing-secret';
export const BOT_TOKEN = 'xoxb-sim-token';

/** Everything one replica of the daemon's Slack side saw. */
export interface Replica {
  slack: SlackIntegration;
  server: RunningServer;
  decisions: ApprovalDecision[];
  expired: ApprovalRecord[];
  killSwitch: KillSwitchRequest[];
  messages: SlackMessageDelivery[];
}

/** The sim's Slack server, a usergroups proxy in front of it, Redis, and daemon replicas. */
export interface SlackTestWorld {
  world: FakeWorld;
  sim: SlackServer;
  clock: ManualClock;
  redis: Redis;
  prefix: string;
  /** Group id → member user ids served as `usergroups.users.list`. */
  groups: Map<string, string[]>;
  replicas: Replica[];
  addReplica(options?: Partial<SlackAppOptions>): Promise<Replica>;
  /** All decisions across replicas. */
  decisions(): ApprovalDecision[];
  /** The approval's message as the workspace shows it now (after any updates). */
  approvalMessage(approvalId: string): Promise<SlackMessageRecord | undefined>;
  /** A signed click on the message's button by `userName`, delivered to `replica`. */
  click(
    replica: Replica,
    approvalId: string,
    userName: string,
    action?: 'approve' | 'reject',
  ): Promise<DeliveryResult>;
  ephemeralsTo(userName: string): SlackMessageRecord[];
  close(): Promise<void>;
}

/**
 * The sim's Slack server has no `usergroups.users.list`; this proxy answers it from `groups` and
 * forwards every other Web API call to the sim unchanged.
 */
async function startUsergroupsProxy(
  simUrl: string,
  groups: Map<string, string[]>,
): Promise<{ url: string; server: Server }> {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      if (request.url?.startsWith('/api/usergroups.users.list')) {
        const group = new URLSearchParams(body).get('usergroup') ?? '';
        const users = groups.get(group);
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify(users ? { ok: true, users } : { ok: false, error: 'no_such_subteam' }));
        return;
      }
      const headers: Record<string, string> = {};
      for (const name of ['authorization', 'content-type']) {
        const value = request.headers[name];
        if (typeof value === 'string') headers[name] = value;
      }
      fetch(`${simUrl}${request.url ?? '/'}`, {
        method: request.method ?? 'POST',
        headers,
        ...(request.method === 'GET' ? {} : { body }),
      })
        .then(async (reply) => {
          response.writeHead(reply.status, {
            'content-type': reply.headers.get('content-type') ?? 'application/json',
          });
          response.end(await reply.text());
        })
        .catch(() => {
          response.writeHead(502);
          response.end();
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** Polls `condition` every 5 ms until it holds; fails after `timeoutMs`. */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export async function startSlackTestWorld(
  redisUrl: string,
  simOptions: SlackServerOptions = {},
): Promise<SlackTestWorld> {
  const world = new FakeWorld({ live: true, speed: 1 });
  const sim = await startSlackServer(world, {
    signingSecret: SIGNING_SECRET,
    botToken: BOT_TOKEN,
    approvalDelayMs: 0,
    pollMs: 5,
    ...simOptions,
  });
  const groups = new Map<string, string[]>();
  const proxy = await startUsergroupsProxy(sim.url, groups);
  const redis = new Redis(redisUrl);
  const prefix = `${testPrefix(import.meta.url)}:`;
  const clock = new ManualClock(Date.now());
  const replicas: Replica[] = [];

  async function addReplica(options: Partial<SlackAppOptions> = {}): Promise<Replica> {
    const replica = {
      decisions: [] as ApprovalDecision[],
      expired: [] as ApprovalRecord[],
      killSwitch: [] as KillSwitchRequest[],
      messages: [] as SlackMessageDelivery[],
    };
    const slack = createSlackApp({
      botToken: new Secret(BOT_TOKEN),
      signingSecret: new Secret(SIGNING_SECRET),
      apiUrl: `${proxy.url}/api/`,
      channel: '#incidents',
      redis,
      keyPrefix: prefix,
      logger: silentLogger(),
      clock,
      retries: 0,
      onDecision: (decision) => {
        replica.decisions.push(decision);
      },
      onExpired: (record) => {
        replica.expired.push(record);
      },
      onKillSwitch: (request) => {
        replica.killSwitch.push(request);
      },
      onMessage: (delivery) => {
        replica.messages.push(delivery);
      },
      ...options,
    });
    const http = createHttpApp({
      bodyLimitBytes: 1_000_000,
      health: new HealthRegistry(),
      metrics: createMetrics(),
      logger: silentLogger(),
      routes: [slack.routes],
    });
    const server = await listen(http, '127.0.0.1', 0);
    const full: Replica = { ...replica, slack, server };
    // The callbacks above push into `replica`'s arrays, which `full` shares.
    replicas.push(full);
    if (replicas.length === 1)
      sim.connectApp({
        eventsUrl: `${server.url}/slack/events`,
        interactionsUrl: `${server.url}/slack/interactions`,
      });
    return full;
  }

  async function approvalMessage(approvalId: string): Promise<SlackMessageRecord | undefined> {
    const record = await replicas[0]?.slack.approvals.store.get(approvalId);
    return record?.channel && record.ts ? sim.workspace.find(record.channel, record.ts) : undefined;
  }

  return {
    world,
    sim,
    clock,
    redis,
    prefix,
    groups,
    replicas,
    addReplica,
    decisions: () => replicas.flatMap((replica) => replica.decisions),
    approvalMessage,
    async click(replica, approvalId, userName, action = 'approve') {
      const message = await approvalMessage(approvalId);
      if (!message) throw new Error(`no message for ${approvalId}`);
      const request = findApprovalRequests(message.blocks).find((r) => r.approvalId === approvalId);
      // After an update the buttons are gone; a client showing the old message can still click.
      const button = (action === 'approve' ? request?.approve : request?.reject) ?? {
        blockId: 'approval',
        actionId: action,
        value: approvalId,
        text: { type: 'plain_text', text: action, emoji: true },
      };
      const payload = blockActionPayload({
        workspace: sim.workspace,
        message,
        button,
        user: sim.workspace.user(userName),
        responseUrl: `${sim.url}/actions/response/${encodeURIComponent(message.channel)}/${encodeURIComponent(message.ts)}`,
        actionTs: sim.workspace.nextTs(world.now()),
      });
      return deliverBlockAction(`${replica.server.url}/slack/interactions`, SIGNING_SECRET, payload);
    },
    ephemeralsTo(userName) {
      const id = sim.workspace.user(userName).id;
      return sim.messages.filter((message) => message.ephemeralUser === id);
    },
    async close() {
      for (const replica of replicas) {
        await replica.slack.stop();
        await replica.server.close();
      }
      await sim.stop();
      await new Promise((resolve) => proxy.server.close(resolve));
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 200);
        cursor = next;
        if (keys.length > 0) await redis.del(...keys);
      } while (cursor !== '0');
      await redis.quit();
    },
  };
}
