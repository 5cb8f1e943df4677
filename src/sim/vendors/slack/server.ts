import type { IncomingMessage, ServerResponse } from 'node:http';
import { listen, type ListenOptions } from '../http/loopback.js';
import { bearerToken, mediaType, parseJson, readText, requestUrl, sendJson } from '../http/messages.js';
import type { VendorSlackMessage, VendorWorld } from '../source.js';
import { deliverEvent, type DeliveryResult } from './delivery.js';
import { OnCallResponder, type ApprovalDecision } from './on-call.js';
import { WEB_API_METHODS, type CallArguments } from './web-api.js';
import { SlackWorkspace, type Block, type SlackMessageRecord } from './workspace.js';

/** Options of the Slack server. */
export interface SlackServerOptions extends ListenOptions {
  /** The bot token the Web API accepts. Default `xoxb-sim-token`. */
  botToken?: string;
  /** The bot's user name. Default `nightshift`. */
  botName?: string;
  /** The app's signing secret, for deliveries to it. Default `sim-signing-secret`. */
  signingSecret?: string;
  /** The app's Events API URL (Bolt: `…/slack/events`); human messages go there when set. */
  eventsUrl?: string;
  /** The app's interactivity URL; defaults to `eventsUrl` (Bolt serves both on one path). */
  interactionsUrl?: string;
  /** How the on-call answers approval buttons; no on-call runs when absent. */
  approvals?: ApprovalDecision;
  /** Sim ms the on-call takes to click. Default 20 s. */
  approvalDelayMs?: number;
  /** The on-call's user name. Default `oncall`. */
  onCallUser?: string;
  /** Wall ms between sim-clock checks while the on-call waits. */
  pollMs?: number;
}

/** One Web API call as the server saw it. */
export interface SlackCallRecord {
  method: string;
  args: CallArguments;
  ok: boolean;
  error?: string;
  at: number;
}

/** A body posted to a message's response_url. */
export interface SlackResponseRecord {
  channel: string;
  messageTs: string;
  body: Record<string, unknown>;
  at: number;
}

/** A running Slack server; `stop()` is safe to call twice. */
export interface SlackServer {
  url: string;
  /** The Web API base for clients: `slackApiUrl` of WebClient / Bolt (`…/api/`). */
  apiUrl: string;
  readonly workspace: SlackWorkspace;
  /** Every message, in order (bot posts, human messages and ephemerals). */
  readonly messages: readonly SlackMessageRecord[];
  readonly calls: readonly SlackCallRecord[];
  readonly responses: readonly SlackResponseRecord[];
  /** Present when approvals are answered. */
  readonly onCall: OnCallResponder | undefined;
  /** A human posts a message: recorded, then delivered to the app's events URL when one is connected. */
  say(message: VendorSlackMessage): Promise<DeliveryResult | undefined>;
  /** Points deliveries at the app (for an app started after this server); replaces the options' URLs. */
  connectApp(target: { eventsUrl: string; interactionsUrl?: string }): void;
  stop(): Promise<void>;
}

async function readArguments(request: IncomingMessage, url: URL): Promise<CallArguments | undefined> {
  const args: CallArguments = Object.fromEntries(url.searchParams);
  if (request.method !== 'POST') return args;
  const text = await readText(request);
  if (mediaType(request) === 'application/json') {
    const parsed = text.trim() === '' ? {} : parseJson(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
    return { ...args, ...(parsed as CallArguments) };
  }
  return { ...args, ...Object.fromEntries(new URLSearchParams(text)) };
}

/**
 * Starts a Slack server: the Web API methods of web-api.ts at `/api/<method>` (form or JSON
 * bodies, bearer token), a response_url endpoint, and — with an interactions URL and
 * `approvals` — an on-call who answers approval buttons.
 */
export async function startSlackServer(
  world: VendorWorld,
  options: SlackServerOptions = {},
): Promise<SlackServer> {
  const botToken = options.botToken ?? 'xoxb-sim-token';
  const signingSecret = options.signingSecret ?? 'sim-signing-secret';
  const workspace = new SlackWorkspace(options.botName);
  const calls: SlackCallRecord[] = [];
  const responses: SlackResponseRecord[] = [];
  let baseUrl = '';

  async function webApi(
    request: IncomingMessage,
    response: ServerResponse,
    method: string,
    url: URL,
  ): Promise<void> {
    const args = await readArguments(request, url);
    const now = world.now();
    const reply = (() => {
      if (!args) return { ok: false as const, error: 'invalid_json' };
      const token = bearerToken(request) ?? (typeof args.token === 'string' ? args.token : undefined);
      if (!token) return { ok: false as const, error: 'not_authed' };
      if (token !== botToken) return { ok: false as const, error: 'invalid_auth' };
      const handler = WEB_API_METHODS[method];
      return handler ? handler(args, { workspace, now }) : { ok: false as const, error: 'unknown_method' };
    })();
    const { token: _token, ...recorded } = args ?? {};
    calls.push({
      method,
      args: recorded,
      ok: reply.ok,
      ...(reply.ok ? {} : { error: reply.error }),
      at: now,
    });
    sendJson(response, 200, reply);
  }

  async function respond(
    request: IncomingMessage,
    response: ServerResponse,
    channel: string,
    ts: string,
  ): Promise<void> {
    const body = parseJson(await readText(request));
    if (typeof body !== 'object' || body === null) {
      sendJson(response, 400, { ok: false, error: 'invalid_payload' });
      return;
    }
    const payload = body as Record<string, unknown>;
    responses.push({ channel, messageTs: ts, body: payload, at: world.now() });
    const message = workspace.find(channel, ts);
    if (message && payload.replace_original === true) {
      const change: { text?: string; blocks?: Block[] } = {};
      if (typeof payload.text === 'string') change.text = payload.text;
      if (Array.isArray(payload.blocks)) change.blocks = payload.blocks as Block[];
      workspace.update(message, change);
    }
    sendJson(response, 200, { ok: true });
  }

  const server = await listen(
    async (request, response) => {
      const url = requestUrl(request);
      const method = /^\/api\/([\w.]+)$/.exec(url.pathname)?.[1];
      const responseTarget = /^\/actions\/response\/([^/]+)\/([^/]+)$/.exec(url.pathname);
      if (method) await webApi(request, response, method, url);
      else if (responseTarget && request.method === 'POST')
        await respond(
          request,
          response,
          decodeURIComponent(responseTarget[1] ?? ''),
          decodeURIComponent(responseTarget[2] ?? ''),
        );
      else sendJson(response, 404, { ok: false, error: 'not_found' });
    },
    options,
    { server: 'slack', log: world.requestLog },
  );
  baseUrl = server.url;

  let target = {
    eventsUrl: options.eventsUrl,
    interactionsUrl: options.interactionsUrl ?? options.eventsUrl,
  };
  const onCall =
    options.approvals !== undefined
      ? new OnCallResponder(world, workspace, {
          decision: options.approvals,
          targetUrl: () => target.interactionsUrl,
          signingSecret,
          responseUrl: (message) =>
            `${baseUrl}/actions/response/${encodeURIComponent(message.channel)}/${encodeURIComponent(message.ts)}`,
          ...(options.approvalDelayMs !== undefined ? { delayMs: options.approvalDelayMs } : {}),
          ...(options.onCallUser ? { userName: options.onCallUser } : {}),
          ...(options.pollMs ? { pollMs: options.pollMs } : {}),
          ...(options.logger ? { logger: options.logger } : {}),
        })
      : undefined;

  async function say(message: VendorSlackMessage): Promise<DeliveryResult | undefined> {
    const channel = workspace.channelId(message.channel) ?? message.channel;
    const user = workspace.user(message.user);
    const now = world.now();
    const record = workspace.post({
      channel,
      ts: workspace.nextTs(now),
      text: message.text,
      user: user.id,
      at: now,
      ...(message.threadTs ? { threadTs: message.threadTs } : {}),
    });
    if (!target.eventsUrl) return undefined;
    return deliverEvent(
      target.eventsUrl,
      signingSecret,
      {
        type: 'message',
        channel,
        user: user.id,
        text: record.text,
        ts: record.ts,
        ...(record.threadTs ? { thread_ts: record.threadTs } : {}),
      },
      { teamId: workspace.teamId, apiAppId: workspace.appId, botUserId: workspace.bot.id },
    );
  }

  return {
    url: server.url,
    apiUrl: `${server.url}/api/`,
    workspace,
    messages: workspace.messages,
    calls,
    responses,
    onCall,
    say,
    connectApp(next) {
      target = { eventsUrl: next.eventsUrl, interactionsUrl: next.interactionsUrl ?? next.eventsUrl };
    },
    async stop() {
      onCall?.stop();
      await server.close();
    },
  };
}
