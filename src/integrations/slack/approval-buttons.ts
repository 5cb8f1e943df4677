import type { App, BlockAction, ButtonAction, RespondFn, webApi } from '@slack/bolt';
import type { Logger } from '../../shared/logger.js';
import type { ApprovalStore } from './approval-store.js';
import type { ApprovalService } from './approvals.js';
import type { ApproverDirectory } from './approvers.js';
import { APPROVE_ACTION, REJECT_ACTION, mention } from './messages.js';

/** What the button listener needs. */
export interface ApprovalButtonsDependencies {
  client: webApi.WebClient;
  store: ApprovalStore;
  approvals: ApprovalService;
  directory: ApproverDirectory;
  logger: Logger;
  /** Where to answer when the payload names no channel. */
  fallbackChannel: string;
}

/** Tells one user something only they see: chat.postEphemeral, else the response_url. */
export async function tellUser(
  client: webApi.WebClient,
  target: { channel: string; user: string },
  text: string,
  respond: RespondFn | undefined,
  logger: Logger,
): Promise<void> {
  try {
    await client.chat.postEphemeral({ channel: target.channel, user: target.user, text });
  } catch (error) {
    logger.debug(
      { err: error instanceof Error ? error.message : String(error) },
      'chat.postEphemeral failed; answering through response_url',
    );
    await respond?.({ response_type: 'ephemeral', replace_original: false, text });
  }
}

/**
 * What a click by `user` on an approval button comes to, as the line shown to that user alone
 * (undefined when the click decided and the updated message says it all).
 */
async function answerClick(
  dependencies: ApprovalButtonsDependencies,
  approvalId: string,
  decision: 'approved' | 'rejected',
  user: string,
): Promise<string | undefined> {
  const { store, directory, approvals, logger } = dependencies;
  const record = await store.get(approvalId);
  if (!record) return 'This approval is no longer known to nightshift.';
  const already = await store.decision(approvalId);
  if (already)
    return `This request was already ${already.decision}${already.via === 'expiry' ? '' : ` by ${mention(already.by)}`}.`;
  if (!(await directory.isApprover(user, record.approvers))) {
    logger.warn({ approvalId, user }, 'approval click by someone who is not an approver');
    const allowed = record.approvers.map(mention).join(', ') || 'nobody';
    return `You are not an approver for this action. Approvers: ${allowed}.`;
  }
  const attempt = await approvals.decide(approvalId, decision, { by: user, via: 'slack' });
  switch (attempt.status) {
    case 'already_decided':
      return `Too late: this request was already ${attempt.decision.decision} by ${mention(attempt.decision.by)}.`;
    case 'expired':
      return 'This request expired before your click; it was escalated.';
    case 'unknown':
      return 'This approval is no longer known to nightshift.';
    case 'decided':
      return undefined;
  }
}

/**
 * Handles clicks on Approve / Reject (action ids `approve` / `reject`, value = approval id):
 * acknowledges at once, refuses non-approvers and late clicks with an ephemeral line, and lets
 * the approval service decide atomically. A failure (Redis away) is told to the clicker, who
 * can click again.
 */
export function registerApprovalButtons(bolt: App, dependencies: ApprovalButtonsDependencies): void {
  bolt.action<BlockAction<ButtonAction>>(
    { type: 'block_actions', action_id: new RegExp(`^(${APPROVE_ACTION}|${REJECT_ACTION})$`) },
    async ({ ack, body, action, respond }) => {
      await ack();
      const user = body.user.id;
      const container = body.container as { channel_id?: unknown } | undefined;
      const channel = body.channel?.id ?? container?.channel_id;
      const target = { channel: typeof channel === 'string' ? channel : dependencies.fallbackChannel, user };
      const approvalId = action.value ?? '';
      const decision = action.action_id === APPROVE_ACTION ? 'approved' : 'rejected';
      let answer: string | undefined;
      try {
        answer = await answerClick(dependencies, approvalId, decision, user);
      } catch (error) {
        dependencies.logger.error(
          { approvalId, err: error instanceof Error ? error.message : String(error) },
          'could not handle an approval click',
        );
        answer = 'nightshift could not record your decision just now; please click again.';
      }
      if (answer !== undefined)
        await tellUser(dependencies.client, target, answer, respond, dependencies.logger);
    },
  );
}
