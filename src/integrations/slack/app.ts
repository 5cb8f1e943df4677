import { createHash } from 'node:crypto';
import { App, webApi } from '@slack/bolt';
import type { Redis } from 'ioredis';
import type { RouteInstaller } from '../../server/http.js';
import { systemClock, type Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/logger.js';
import { silentLogger } from '../../shared/logger.js';
import type { Secret } from '../../shared/secret.js';
import { ApprovalStore, type ApprovalRecord } from './approval-store.js';
import {
  ApprovalService,
  DEFAULT_APPROVAL_TTL_MS,
  type ApprovalDecision,
  type ApprovalRequestInput,
} from './approvals.js';
import { ApproverDirectory } from './approvers.js';
import { boltLogger } from './bolt-logger.js';
import { registerApprovalButtons } from './approval-buttons.js';
import { registerKillSwitchCommand, type KillSwitchRequest } from './kill-switch-command.js';
import { registerMessageEvents, type SlackMessageDelivery } from './message-events.js';
import {
  approvalDecidedMessage,
  approvalRequestMessage,
  incidentRootMessage,
  reportMessage,
  suggestionMessage,
  type ApprovalOutcome,
  type IncidentThreadInput,
  type InvestigationReport,
  type ShadowSuggestion,
  type SlackMessage,
} from './messages.js';
import { FetchReceiver } from './receiver.js';

export type { KillSwitchRequest } from './kill-switch-command.js';
export type { SlackMessageDelivery } from './message-events.js';

/** Where an incident's conversation lives. */
export interface SlackThread {
  channel: string;
  ts: string;
}

/** Options of {@link createSlackApp}. */
export interface SlackAppOptions {
  botToken: Secret;
  signingSecret: Secret;
  /** Web API base with trailing slash. Default `https://slack.com/api/`. */
  apiUrl?: string;
  /** Channel for incident threads and approvals (`#name` or id). */
  channel: string;
  /** Shared by every replica; holds approvals and incident threads. The caller owns it. */
  redis: Redis;
  /** Prefix of every Redis key. Default `nightshift:`. */
  keyPrefix?: string;
  logger?: Logger;
  clock?: Clock;
  /** Time to decide an approval. Default 15 minutes. */
  approvalTtlMs?: number;
  /** How often this replica looks for expired approvals. Default 5 s. */
  expirySweepMs?: number;
  /** Channel ids whose messages go to `onMessage`. Absent: every channel the bot is in. */
  messageChannels?: readonly string[];
  /** The slash command. Default `/nightshift`. */
  command?: string;
  /** Users and groups allowed to use the slash command. Absent: everyone in the workspace. */
  commandUsers?: readonly string[];
  /** Web API retries on rate limits and server errors. Default 3. */
  retries?: number;
  /** Called once per approval, on the replica whose decision won. */
  onDecision?: (decision: ApprovalDecision) => void | Promise<void>;
  /** Called once per approval that expired undecided: escalate. */
  onExpired?: (record: ApprovalRecord) => void | Promise<void>;
  /** `/nightshift pause|resume`; a throw is shown to the user as a failure. */
  onKillSwitch?: (request: KillSwitchRequest) => void | Promise<void>;
  /** Human messages in watched channels; a throw makes Slack redeliver. */
  onMessage?: (delivery: SlackMessageDelivery) => void | Promise<void>;
}

/** The Slack side of nightshift. `stop()` is safe to call twice. */
export interface SlackIntegration {
  readonly bolt: App;
  readonly client: webApi.WebClient;
  readonly receiver: FetchReceiver;
  readonly approvals: ApprovalService;
  /** `POST /slack/events` and `POST /slack/interactions` on the daemon's HTTP server. */
  readonly routes: RouteInstaller;
  /** Posts the incident's root message once per incident (across replicas) and answers its thread. */
  postIncidentThread(input: IncidentThreadInput): Promise<SlackThread>;
  /** The thread posted for an incident, if any. */
  threadFor(incidentId: string): Promise<SlackThread | undefined>;
  postReport(thread: SlackThread, report: InvestigationReport): Promise<string>;
  postSuggestion(thread: SlackThread, suggestion: ShadowSuggestion): Promise<string>;
  postMessage(thread: SlackThread, message: SlackMessage): Promise<string>;
  /** Stores and posts an approval request (see {@link ApprovalService.request}). */
  requestApproval(input: ApprovalRequestInput): Promise<ApprovalRecord>;
  /** Adds the executed action's outcome to the approval message. */
  reportOutcome(approvalId: string, outcome: ApprovalOutcome): Promise<void>;
  /** Starts the expiry sweep. */
  start(): Promise<void>;
  /** Stops the sweep and waits for requests in flight. */
  stop(): Promise<void>;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Builds the Slack integration on @slack/bolt with a {@link FetchReceiver}, so it mounts on the
 * daemon's hono server (`routes`) rather than opening its own port. Performs no I/O until a
 * request arrives or a method is called; `start()` begins the expiry sweep.
 */
export function createSlackApp(options: SlackAppOptions): SlackIntegration {
  const logger = (options.logger ?? silentLogger()).child({ component: 'slack' });
  const clock = options.clock ?? systemClock;
  const prefix = options.keyPrefix ?? 'nightshift:';
  const clientOptions: webApi.WebClientOptions = {
    slackApiUrl: options.apiUrl ?? 'https://slack.com/api/',
    retryConfig: { retries: options.retries ?? 3 },
    logger: boltLogger(logger),
  };
  const client = new webApi.WebClient(options.botToken.reveal(), clientOptions);
  const receiver = new FetchReceiver({ signingSecret: options.signingSecret, logger });

  // Our own authorize caches a successful auth.test and retries a failed one on the next
  // request; Bolt's built-in one starts auth.test in its constructor and leaves a failure unhandled.
  let identity: Promise<{ botId?: string; botUserId?: string; teamId?: string }> | undefined;
  const authorize = async (): Promise<Record<string, string | undefined>> => {
    identity ??= client.auth.test().then((reply) => ({
      ...(reply.bot_id ? { botId: reply.bot_id } : {}),
      ...(reply.user_id ? { botUserId: reply.user_id } : {}),
      ...(reply.team_id ? { teamId: reply.team_id } : {}),
    }));
    try {
      return { botToken: options.botToken.reveal(), ...(await identity) };
    } catch (error) {
      identity = undefined;
      throw error;
    }
  };
  const bolt = new App({ receiver, authorize, logger: boltLogger(logger), clientOptions });

  const store = new ApprovalStore(options.redis, { keyPrefix: prefix });
  const directory = new ApproverDirectory(client, { clock, logger });

  async function post(thread: Partial<SlackThread>, message: SlackMessage): Promise<SlackThread> {
    const reply = await client.chat.postMessage({
      channel: thread.channel ?? options.channel,
      text: message.text,
      blocks: message.blocks,
      ...(thread.ts ? { thread_ts: thread.ts } : {}),
    });
    if (!reply.channel || !reply.ts) throw new Error('chat.postMessage answered without channel and ts');
    return { channel: reply.channel, ts: reply.ts };
  }

  const approvals = new ApprovalService({
    store,
    clock,
    logger,
    defaultTtlMs: options.approvalTtlMs ?? DEFAULT_APPROVAL_TTL_MS,
    ...(options.onDecision ? { onDecision: options.onDecision } : {}),
    ...(options.onExpired ? { onExpired: options.onExpired } : {}),
    presenter: {
      post: (record) =>
        post(
          {
            ...(record.channel ? { channel: record.channel } : {}),
            ...(record.threadTs ? { ts: record.threadTs } : {}),
          },
          approvalRequestMessage(record),
        ),
      decided: async (record, decision, outcome) => {
        if (!record.channel || !record.ts) return;
        const message = approvalDecidedMessage(record, decision, outcome);
        await client.chat.update({
          channel: record.channel,
          ts: record.ts,
          text: message.text,
          blocks: message.blocks,
        });
      },
    },
  });

  registerApprovalButtons(bolt, {
    client,
    store,
    approvals,
    directory,
    logger,
    fallbackChannel: options.channel,
  });
  registerKillSwitchCommand(bolt, {
    directory,
    logger,
    ...(options.command ? { command: options.command } : {}),
    ...(options.commandUsers ? { allowed: options.commandUsers } : {}),
    ...(options.onKillSwitch ? { onKillSwitch: options.onKillSwitch } : {}),
  });
  if (options.onMessage)
    registerMessageEvents(bolt, {
      clock,
      onMessage: options.onMessage,
      ...(options.messageChannels ? { channels: options.messageChannels } : {}),
    });

  bolt.error((error) => {
    logger.error({ err: describe(error) }, 'slack request failed');
    return Promise.reject(error);
  });

  const handle = (request: Request): Promise<Response> =>
    receiver.handle(request, (raw) => ({
      digest: `sha256:${createHash('sha256').update(raw).digest('hex')}`,
      receivedAt: clock.now(),
    }));

  const threadKey = (incidentId: string): string => `${prefix}slack:thread:${incidentId}`;
  let sweep: NodeJS.Timeout | undefined;
  let sweeping: Promise<number> | undefined;
  let stopped = false;

  return {
    bolt,
    client,
    receiver,
    approvals,
    routes: (app) => {
      app.post('/slack/events', (context) => handle(context.req.raw));
      app.post('/slack/interactions', (context) => handle(context.req.raw));
    },
    async postIncidentThread(input) {
      const existing = await options.redis.get(threadKey(input.incidentId));
      if (existing) return JSON.parse(existing) as SlackThread;
      const thread = await post({}, incidentRootMessage(input));
      const saved = await options.redis.set(
        threadKey(input.incidentId),
        JSON.stringify(thread),
        'PX',
        30 * 86_400_000,
        'NX',
      );
      if (saved !== 'OK') {
        const winner = await options.redis.get(threadKey(input.incidentId));
        if (winner) return JSON.parse(winner) as SlackThread;
      }
      return thread;
    },
    async threadFor(incidentId) {
      const text = await options.redis.get(threadKey(incidentId));
      return text ? (JSON.parse(text) as SlackThread) : undefined;
    },
    async postReport(thread, report) {
      return (await post(thread, reportMessage(report))).ts;
    },
    async postSuggestion(thread, suggestion) {
      return (await post(thread, suggestionMessage(suggestion))).ts;
    },
    async postMessage(thread, message) {
      return (await post(thread, message)).ts;
    },
    requestApproval: (input) => approvals.request(input),
    reportOutcome: (approvalId, outcome) => approvals.reportOutcome(approvalId, outcome),
    start() {
      if (sweep || stopped) return Promise.resolve();
      sweep = setInterval(() => {
        sweeping ??= approvals.sweepExpired().finally(() => {
          sweeping = undefined;
        });
      }, options.expirySweepMs ?? 5_000);
      sweep.unref();
      return Promise.resolve();
    },
    async stop() {
      stopped = true;
      if (sweep) clearInterval(sweep);
      sweep = undefined;
      await sweeping;
      await receiver.stop();
    },
  };
}
