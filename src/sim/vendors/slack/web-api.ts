import type { Block, SlackMessageRecord, SlackWorkspace } from './workspace.js';

/** The arguments of one Web API call, strings from a form or values from a JSON body. */
export type CallArguments = Record<string, unknown>;

/** A Web API reply: always HTTP 200, `ok` false with an `error` code on failure. */
export type CallReply = { ok: true; [key: string]: unknown } | { ok: false; error: string };

/** Methods the sim serves, and what each needs. */
export type WebApiMethod = (
  args: CallArguments,
  context: { workspace: SlackWorkspace; now: number },
) => CallReply;

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined;
}

/** `blocks` arrive as a JSON string in forms and as an array in JSON bodies. */
function blocksOf(value: unknown): Block[] | undefined | 'invalid' {
  if (value === undefined || value === '') return undefined;
  let parsed: unknown = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value) as unknown;
    } catch {
      return 'invalid';
    }
  }
  return Array.isArray(parsed) && parsed.every((block) => typeof block === 'object' && block !== null)
    ? (parsed as Block[])
    : 'invalid';
}

/** A message as the Web API shows it. */
export function wireMessage(message: SlackMessageRecord, workspace: SlackWorkspace): Record<string, unknown> {
  const wire: Record<string, unknown> = {
    type: 'message',
    user: message.user,
    text: message.text,
    ts: message.ts,
    team: workspace.teamId,
  };
  if (message.blocks) wire.blocks = message.blocks;
  if (message.botId) wire.bot_id = message.botId;
  if (message.threadTs) wire.thread_ts = message.threadTs;
  if (message.edits > 0) wire.edited = { user: message.user, ts: message.ts };
  const replies = workspace.messages.filter(
    (m) =>
      m.channel === message.channel && m.threadTs === message.ts && m.ts !== message.ts && !m.ephemeralUser,
  );
  if (replies.length > 0) {
    wire.thread_ts = message.ts;
    wire.reply_count = replies.length;
    wire.latest_reply = replies[replies.length - 1]?.ts;
  }
  return wire;
}

function page<T>(items: T[], args: CallArguments, defaultLimit: number): { items: T[]; nextCursor: string } {
  const limit = Math.min(Number(text(args.limit) ?? defaultLimit) || defaultLimit, 1000);
  const cursor = text(args.cursor);
  const offset = cursor
    ? Number(
        Buffer.from(cursor, 'base64url')
          .toString('utf8')
          .replace(/^offset:/, ''),
      ) || 0
    : 0;
  const slice = items.slice(offset, offset + limit);
  const next =
    offset + limit < items.length
      ? Buffer.from(`offset:${offset + limit}`, 'utf8').toString('base64url')
      : '';
  return { items: slice, nextCursor: next };
}

function inRange(ts: string, args: CallArguments): boolean {
  const value = Number(ts);
  const oldest = text(args.oldest);
  const latest = text(args.latest);
  const inclusive = text(args.inclusive) === 'true' || args.inclusive === true;
  if (oldest !== undefined && (inclusive ? value < Number(oldest) : value <= Number(oldest))) return false;
  return !(latest !== undefined && (inclusive ? value > Number(latest) : value >= Number(latest)));
}

const postMessage: WebApiMethod = (args, { workspace, now }) => {
  const channel = workspace.channelId(text(args.channel) ?? '');
  if (!text(args.channel) || !channel) return { ok: false, error: 'channel_not_found' };
  const blocks = blocksOf(args.blocks);
  if (blocks === 'invalid') return { ok: false, error: 'invalid_blocks' };
  const body = text(args.text) ?? '';
  if (body === '' && !blocks) return { ok: false, error: 'no_text' };
  const threadTs = text(args.thread_ts);
  const record = workspace.post({
    channel,
    ts: workspace.nextTs(now),
    text: body,
    user: workspace.bot.id,
    botId: workspace.botId,
    at: now,
    ...(blocks ? { blocks } : {}),
    ...(threadTs ? { threadTs } : {}),
  });
  return { ok: true, channel, ts: record.ts, message: wireMessage(record, workspace) };
};

const postEphemeral: WebApiMethod = (args, { workspace, now }) => {
  const channel = workspace.channelId(text(args.channel) ?? '');
  if (!text(args.channel) || !channel) return { ok: false, error: 'channel_not_found' };
  const user = text(args.user);
  if (!user || !workspace.userById(user)) return { ok: false, error: 'user_not_in_channel' };
  const blocks = blocksOf(args.blocks);
  if (blocks === 'invalid') return { ok: false, error: 'invalid_blocks' };
  const body = text(args.text) ?? '';
  if (body === '' && !blocks) return { ok: false, error: 'no_text' };
  const record = workspace.post({
    channel,
    ts: workspace.nextTs(now),
    text: body,
    user: workspace.bot.id,
    botId: workspace.botId,
    ephemeralUser: user,
    at: now,
    ...(blocks ? { blocks } : {}),
  });
  return { ok: true, message_ts: record.ts };
};

const update: WebApiMethod = (args, { workspace }) => {
  const channel = workspace.channelId(text(args.channel) ?? '');
  const ts = text(args.ts);
  if (!channel || !text(args.channel)) return { ok: false, error: 'channel_not_found' };
  const message = ts ? workspace.find(channel, ts) : undefined;
  if (!message) return { ok: false, error: 'message_not_found' };
  if (message.user !== workspace.bot.id) return { ok: false, error: 'cant_update_message' };
  const blocks = blocksOf(args.blocks);
  if (blocks === 'invalid') return { ok: false, error: 'invalid_blocks' };
  const updated = workspace.update(message, {
    ...(text(args.text) !== undefined ? { text: text(args.text) } : {}),
    ...(blocks ? { blocks } : {}),
  });
  return { ok: true, channel, ts: updated.ts, text: updated.text, message: wireMessage(updated, workspace) };
};

const usersInfo: WebApiMethod = (args, { workspace }) => {
  const user = workspace.userById(text(args.user) ?? '');
  if (!user) return { ok: false, error: 'user_not_found' };
  return {
    ok: true,
    user: {
      id: user.id,
      team_id: workspace.teamId,
      name: user.name,
      real_name: user.realName,
      deleted: false,
      is_bot: user.isBot,
      is_admin: false,
      tz: 'Europe/Amsterdam',
      profile: {
        real_name: user.realName,
        display_name: user.name,
        ...(user.isBot ? { bot_id: workspace.botId } : {}),
      },
    },
  };
};

const history: WebApiMethod = (args, { workspace }) => {
  const channel = workspace.channelId(text(args.channel) ?? '');
  if (!channel || !text(args.channel)) return { ok: false, error: 'channel_not_found' };
  const top = workspace.messages
    .filter(
      (m) =>
        m.channel === channel &&
        !m.ephemeralUser &&
        (!m.threadTs || m.threadTs === m.ts) &&
        inRange(m.ts, args),
    )
    .reverse();
  const { items, nextCursor } = page(top, args, 100);
  return {
    ok: true,
    messages: items.map((m) => wireMessage(m, workspace)),
    has_more: nextCursor !== '',
    pin_count: 0,
    response_metadata: { next_cursor: nextCursor },
  };
};

const replies: WebApiMethod = (args, { workspace }) => {
  const channel = workspace.channelId(text(args.channel) ?? '');
  const ts = text(args.ts);
  if (!channel || !text(args.channel)) return { ok: false, error: 'channel_not_found' };
  const parent = ts ? workspace.find(channel, ts) : undefined;
  if (!parent) return { ok: false, error: 'thread_not_found' };
  const thread = [
    parent,
    ...workspace.messages.filter(
      (m) =>
        m.channel === channel && m.threadTs === ts && m.ts !== ts && !m.ephemeralUser && inRange(m.ts, args),
    ),
  ];
  const { items, nextCursor } = page(thread, args, 1000);
  return {
    ok: true,
    messages: items.map((m) => wireMessage(m, workspace)),
    has_more: nextCursor !== '',
    response_metadata: { next_cursor: nextCursor },
  };
};

/**
 * The sim's workspace has one team: every user group (`S…`) holds every person in it, so the
 * on-call can approve whatever group a policy names.
 */
const userGroupMembers: WebApiMethod = (args, { workspace }) => {
  const usergroup = text(args.usergroup);
  if (!usergroup) return { ok: false, error: 'invalid_arguments' };
  if (!usergroup.startsWith('S')) return { ok: false, error: 'no_such_subteam' };
  return { ok: true, users: workspace.people().map((user) => user.id) };
};

const authTest: WebApiMethod = (_args, { workspace }) => ({
  ok: true,
  url: `https://${workspace.teamDomain}.slack.com/`,
  team: workspace.teamDomain,
  user: workspace.bot.name,
  team_id: workspace.teamId,
  user_id: workspace.bot.id,
  bot_id: workspace.botId,
  is_enterprise_install: false,
});

/** The Web API methods the sim serves, by method name. */
export const WEB_API_METHODS: Readonly<Record<string, WebApiMethod>> = {
  'auth.test': authTest,
  'chat.postMessage': postMessage,
  'chat.postEphemeral': postEphemeral,
  'chat.update': update,
  'users.info': usersInfo,
  'usergroups.users.list': userGroupMembers,
  'conversations.history': history,
  'conversations.replies': replies,
};
