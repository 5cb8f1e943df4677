import type { Block, SlackMessageRecord, SlackUser, SlackWorkspace } from './workspace.js';

/** The action ids of the approval buttons (see docs/sim.md, "Slack button convention"). */
export const APPROVE_ACTION_ID = 'approve';
export const REJECT_ACTION_ID = 'reject';

/** A button found in a message's `actions` blocks. */
export interface FoundButton {
  blockId: string;
  actionId: string;
  value: string;
  text: Record<string, unknown>;
  style?: string;
}

/** An approval request: a message with an Approve and/or Reject button for one approval id. */
export interface ApprovalRequest {
  approvalId: string;
  approve?: FoundButton;
  reject?: FoundButton;
}

function buttonsOf(blocks: readonly Block[]): FoundButton[] {
  const found: FoundButton[] = [];
  blocks.forEach((block, index) => {
    if (block.type !== 'actions' || !Array.isArray(block.elements)) return;
    for (const element of block.elements as Array<Record<string, unknown>>) {
      if (element.type !== 'button' || typeof element.action_id !== 'string') continue;
      const button: FoundButton = {
        blockId: typeof block.block_id === 'string' ? block.block_id : `block-${index}`,
        actionId: element.action_id,
        value: typeof element.value === 'string' ? element.value : '',
        // Slack echoes plain_text with emoji set, as it stores it.
        text: {
          emoji: true,
          ...((element.text as Record<string, unknown> | undefined) ?? {
            type: 'plain_text',
            text: element.action_id,
          }),
        },
      };
      if (typeof element.style === 'string') button.style = element.style;
      found.push(button);
    }
  });
  return found;
}

/** The approval requests in a message, one per approval id (the buttons' value). */
export function findApprovalRequests(blocks: readonly Block[] | undefined): ApprovalRequest[] {
  const byId = new Map<string, ApprovalRequest>();
  for (const button of buttonsOf(blocks ?? [])) {
    if (button.actionId !== APPROVE_ACTION_ID && button.actionId !== REJECT_ACTION_ID) continue;
    const request = byId.get(button.value) ?? { approvalId: button.value };
    if (button.actionId === APPROVE_ACTION_ID) request.approve = button;
    else request.reject = button;
    byId.set(button.value, request);
  }
  return [...byId.values()];
}

/**
 * A `block_actions` payload for a click on `button` of `message` by `user`, shaped like
 * Slack's (the real sample in the fixtures), with the message and channel Slack adds for
 * messages.
 */
export function blockActionPayload(input: {
  workspace: SlackWorkspace;
  message: SlackMessageRecord;
  button: FoundButton;
  user: SlackUser;
  responseUrl: string;
  actionTs: string;
}): Record<string, unknown> {
  const { workspace, message, button, user } = input;
  return {
    type: 'block_actions',
    user: { id: user.id, username: user.name, name: user.name, team_id: workspace.teamId },
    api_app_id: workspace.appId,
    token: 'sim-verification-token',
    container: {
      type: 'message',
      message_ts: message.ts,
      channel_id: message.channel,
      is_ephemeral: Boolean(message.ephemeralUser),
      text: message.text,
    },
    trigger_id: `${Math.floor(Number(input.actionTs))}.${workspace.teamId}.${button.value.length}`,
    team: { id: workspace.teamId, domain: workspace.teamDomain },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: message.channel, name: message.channelName },
    message: {
      type: 'message',
      user: message.user,
      ...(message.botId ? { bot_id: message.botId } : {}),
      text: message.text,
      ts: message.ts,
      ...(message.threadTs ? { thread_ts: message.threadTs } : {}),
      blocks: message.blocks ?? [],
    },
    state: { values: {} },
    response_url: input.responseUrl,
    actions: [
      {
        type: 'button',
        block_id: button.blockId,
        action_id: button.actionId,
        text: button.text,
        value: button.value,
        ...(button.style ? { style: button.style } : {}),
        action_ts: input.actionTs,
      },
    ],
  };
}
