import { EventEmitter } from 'node:events';
import { stableHash } from '../../../shared/ids.js';

/** A Block Kit block, kept as sent. */
export type Block = Record<string, unknown>;

/** One message in the simulated workspace, as the sim records it. */
export interface SlackMessageRecord {
  /** Channel id (`C…`). */
  channel: string;
  channelName: string;
  ts: string;
  threadTs?: string;
  text: string;
  blocks?: Block[];
  /** User id of the author (the bot's user id for bot posts). */
  user: string;
  botId?: string;
  /** Set for chat.postEphemeral: the only user who sees it. */
  ephemeralUser?: string;
  /** How many times chat.update changed it. */
  edits: number;
  /** Sim time it was posted. */
  at: number;
}

/** A member of the workspace. */
export interface SlackUser {
  id: string;
  name: string;
  realName: string;
  isBot: boolean;
}

/** Workspace notifications: `message-posted` and `message-updated`, with the record. */
export interface WorkspaceEvents {
  'message-posted': SlackMessageRecord;
  'message-updated': SlackMessageRecord;
}

function slackId(prefix: string, ...parts: string[]): string {
  return `${prefix}${stableHash(...parts)
    .slice(0, 10)
    .toUpperCase()}`;
}

/**
 * The state of the simulated Slack workspace: channels (created on first use by name), users,
 * and every message. Ids are stable: the same names give the same ids in every run.
 */
export class SlackWorkspace {
  readonly teamId = 'T0SIMTEAM1';
  readonly teamDomain = 'nightshift-sim';
  readonly appId = 'A0SIMAPP01';
  readonly bot: SlackUser;
  readonly botId = 'B0SIMBOT01';
  readonly messages: SlackMessageRecord[] = [];
  readonly #channels = new Map<string, string>();
  readonly #users = new Map<string, SlackUser>();
  readonly #emitter = new EventEmitter();
  #lastTsMicros = 0;

  constructor(botName = 'nightshift') {
    this.bot = { id: slackId('U', 'bot', botName), name: botName, realName: botName, isBot: true };
    this.#users.set(this.bot.id, this.bot);
  }

  /** The id of a channel given as `#name`, `name` or a known id; creates named channels. */
  channelId(nameOrId: string): string | undefined {
    if (this.#channels.has(nameOrId)) return nameOrId;
    if (/^[CGD][A-Z0-9]{8,}$/.test(nameOrId)) return undefined;
    const name = nameOrId.replace(/^#/, '');
    const id = slackId('C', 'channel', name);
    this.#channels.set(id, name);
    return id;
  }

  channelName(id: string): string {
    return this.#channels.get(id) ?? id;
  }

  /** The user with this name, created on first use. */
  /** Every person in the workspace (not the bot), in the order they joined. */
  people(): SlackUser[] {
    return [...this.#users.values()].filter((user) => !user.isBot);
  }

  user(name: string): SlackUser {
    const existing = [...this.#users.values()].find((user) => user.name === name);
    if (existing) return existing;
    const user = {
      id: slackId('U', 'user', name),
      name,
      realName: name.charAt(0).toUpperCase() + name.slice(1),
      isBot: false,
    };
    this.#users.set(user.id, user);
    return user;
  }

  userById(id: string): SlackUser | undefined {
    return this.#users.get(id);
  }

  /** A fresh message timestamp (`seconds.micros`) from sim time, strictly increasing. */
  nextTs(nowMs: number): string {
    const micros = Math.max(nowMs * 1000, this.#lastTsMicros + 1);
    this.#lastTsMicros = micros;
    return `${Math.floor(micros / 1_000_000)}.${String(micros % 1_000_000).padStart(6, '0')}`;
  }

  post(record: Omit<SlackMessageRecord, 'edits' | 'channelName'>): SlackMessageRecord {
    const message: SlackMessageRecord = {
      ...record,
      channelName: this.channelName(record.channel),
      edits: 0,
    };
    this.messages.push(message);
    this.#emitter.emit('message-posted', message);
    return message;
  }

  find(channel: string, ts: string): SlackMessageRecord | undefined {
    return this.messages.find(
      (message) => message.channel === channel && message.ts === ts && !message.ephemeralUser,
    );
  }

  update(message: SlackMessageRecord, change: { text?: string; blocks?: Block[] }): SlackMessageRecord {
    if (change.text !== undefined) message.text = change.text;
    if (change.blocks !== undefined) message.blocks = change.blocks;
    message.edits++;
    this.#emitter.emit('message-updated', message);
    return message;
  }

  on<K extends keyof WorkspaceEvents>(event: K, listener: (message: WorkspaceEvents[K]) => void): () => void {
    this.#emitter.on(event, listener);
    return () => this.#emitter.off(event, listener);
  }
}
