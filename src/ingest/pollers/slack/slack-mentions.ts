import { z } from 'zod';
import { slackThreadId } from '../../../graph/ids.js';
import type { GraphStore } from '../../../graph/store.js';
import type { Signal } from '../../signal.js';
import { emptyWrites, type GraphWrites, type Poller, type PollResult } from '../poller.js';
import { aliasIndex, mentionableEntities, mentionMatcher, type NamedEntity } from './entity-names.js';
import { statedDependencies } from './relationship-statements.js';

const SOURCE = 'slack';

/** What a Slack `message` signal (`parseSlack`) carries in its attributes. */
const messageAttributesSchema = z.object({
  channel: z.string(),
  ts: z.string(),
  threadTs: z.string(),
  text: z.string(),
  team: z.string().optional(),
  botId: z.string().optional(),
});

/** Options of the mention extraction. */
export interface SlackMentionOptions {
  /** The workspace's URL for permalinks, e.g. `https://acme.slack.com`. Default `https://slack.com`. */
  workspaceUrl?: string;
}

/** A message permalink as Slack shapes it: `<workspace>/archives/<channel>/p<ts without the dot>`. */
export function slackPermalink(workspaceUrl: string, channel: string, ts: string, threadTs?: string): string {
  const base = `${workspaceUrl.replace(/\/+$/, '')}/archives/${encodeURIComponent(channel)}/p${ts.replace('.', '')}`;
  return threadTs && threadTs !== ts
    ? `${base}?thread_ts=${threadTs}&cid=${encodeURIComponent(channel)}`
    : base;
}

/**
 * Graph writes for Slack `message` signals: the message's thread as a `SlackThread` entity,
 * `MENTIONS` from the thread to every known service, datastore, queue or external dependency the
 * text names (with the message permalink), and tentative `DEPENDS_ON` edges for dependencies the
 * text states (confidence ≤ 0.3, `source: slack`, the permalink and sentence as provenance). A
 * stated edge is not written over an existing edge of higher confidence (an observed one stays
 * observed); bot messages state nothing. The text is read as data only. Signals of other kinds are
 * ignored.
 */
export async function slackMentionWrites(
  messages: readonly Signal[],
  graph: GraphStore,
  options: SlackMentionOptions = {},
  known?: readonly NamedEntity[],
): Promise<GraphWrites> {
  const writes = emptyWrites();
  const entities = known ?? (await mentionableEntities(graph));
  const match = mentionMatcher(aliasIndex(entities));
  const workspaceUrl = options.workspaceUrl ?? 'https://slack.com';
  const existing = new Map<string, number>();
  for (const message of messages) {
    if (message.source !== 'slack' || message.kind !== 'message') continue;
    const parsed = messageAttributesSchema.safeParse(message.attributes);
    if (!parsed.success) continue;
    const { channel, ts, threadTs, text } = parsed.data;
    const mentions = match(text);
    if (mentions.length === 0) continue;
    const thread = slackThreadId(channel, threadTs);
    const permalink = slackPermalink(workspaceUrl, channel, ts, threadTs);
    writes.entities.push({
      id: thread,
      kind: 'SlackThread',
      name: `${channel} ${threadTs}`,
      source: SOURCE,
      observedAt: message.observedAt,
      properties: { channel, threadTs, link: slackPermalink(workspaceUrl, channel, threadTs) },
    });
    for (const entity of new Map(mentions.map((mention) => [mention.entity.id, mention.entity])).values()) {
      writes.relationships.push({
        kind: 'MENTIONS',
        from: thread,
        to: entity.id,
        source: SOURCE,
        observedAt: message.observedAt,
        properties: { link: permalink, messageTs: ts },
      });
    }
    // A bot (nightshift itself among them) repeats what it was told or inferred: it states nothing.
    const stated = parsed.data.botId ? [] : statedDependencies(text, mentions);
    for (const dependency of stated) {
      const key = `${dependency.from.id}\u0000${dependency.to.id}`;
      if (!existing.has(key)) {
        const reached = await graph.neighbors(dependency.from.id, {
          kinds: ['DEPENDS_ON'],
          direction: 'out',
        });
        const edge = reached.find((item) => item.entity.id === dependency.to.id);
        existing.set(key, edge?.path[0]?.confidence ?? 0);
      }
      if ((existing.get(key) ?? 0) > dependency.confidence) continue;
      existing.set(key, dependency.confidence);
      writes.relationships.push({
        kind: 'DEPENDS_ON',
        from: dependency.from.id,
        to: dependency.to.id,
        source: SOURCE,
        confidence: dependency.confidence,
        observedAt: message.observedAt,
        properties: { permalink, statement: dependency.statement, inferred: 'slack-statement' },
      });
    }
  }
  return writes;
}

/** Where the mention poller reads Slack message signals from, after a cursor it keeps. */
export interface SlackMessageFeed {
  read(cursor: string | undefined): Promise<{ messages: Signal[]; cursor: string | undefined }>;
}

const stateSchema = z.object({ v: z.literal(1), cursor: z.string().nullable() });
export type SlackMentionPollState = z.infer<typeof stateSchema>;

/** Runs `slackMentionWrites` over the messages a feed gives since the last cursor. No signals. */
export function slackMentionsPoller(
  options: SlackMentionOptions & { feed: SlackMessageFeed },
): Poller<SlackMentionPollState> {
  const initialState = (): SlackMentionPollState => ({ v: 1, cursor: null });
  return {
    name: 'slack-mentions',
    initialState,
    readState: (stored) => stateSchema.safeParse(stored).data ?? initialState(),
    async poll(state, context): Promise<PollResult<SlackMentionPollState>> {
      const read = await options.feed.read(state.cursor ?? undefined);
      const graphWrites = await slackMentionWrites(read.messages, context.graph, options);
      return { signals: [], graphWrites, nextState: { v: 1, cursor: read.cursor ?? state.cursor } };
    },
  };
}
