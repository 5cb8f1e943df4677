import type { Logger } from '../../../shared/logger.js';
import { silentLogger } from '../../../shared/logger.js';
import { waitSim, type SimClock } from '../sim-time.js';
import { blockActionPayload, findApprovalRequests } from './approval-buttons.js';
import { deliverBlockAction } from './delivery.js';
import type { SlackMessageRecord, SlackWorkspace } from './workspace.js';

/** How the sim's on-call answers approval requests (the scenario's `approvals`). */
export type ApprovalDecision = 'approve' | 'reject' | 'ignore';

/** Options of the on-call responder. */
export interface OnCallOptions {
  decision: ApprovalDecision;
  /** Where interactions go (the daemon's Bolt endpoint, `…/slack/events`), read at click time. */
  targetUrl: () => string | undefined;
  signingSecret: string;
  /** Sim time the on-call takes to click. Default 20 s. */
  delayMs?: number;
  /** The on-call's Slack user name. Default `oncall`. */
  userName?: string;
  /** The response_url to put in payloads, per message. */
  responseUrl: (message: SlackMessageRecord) => string;
  /** Wall ms between sim-clock checks while waiting. Default 25. */
  pollMs?: number;
  logger?: Logger;
}

/** One answer the on-call gave (or chose not to give). */
export interface OnCallAnswer {
  approvalId: string;
  decision: ApprovalDecision;
  channel: string;
  messageTs: string;
  /** Sim time of the click (of the decision for `ignore`). */
  at: number;
  /** HTTP status the daemon answered; absent for `ignore` or a failed delivery. */
  status?: number;
  error?: string;
}

/**
 * Watches the workspace for messages carrying Approve/Reject buttons and, after `delayMs` of
 * sim time, clicks the button the decision names by delivering a signed `block_actions` to
 * the daemon. Answers each approval id once, even when the message is updated. `stop()` drops
 * pending clicks; safe to call twice.
 */
export class OnCallResponder {
  readonly answers: OnCallAnswer[] = [];
  readonly #answered = new Set<string>();
  readonly #pending = new Set<Promise<void>>();
  readonly #abort = new AbortController();
  readonly #unsubscribe: Array<() => void>;
  readonly #logger: Logger;

  constructor(
    private readonly clock: SimClock,
    private readonly workspace: SlackWorkspace,
    private readonly options: OnCallOptions,
  ) {
    this.#logger = options.logger ?? silentLogger();
    // The on-call is a member from the start, so users.info knows them before they click.
    workspace.user(options.userName ?? 'oncall');
    const onMessage = (message: SlackMessageRecord): void => this.#consider(message);
    this.#unsubscribe = [
      workspace.on('message-posted', onMessage),
      workspace.on('message-updated', onMessage),
    ];
  }

  /** Resolves once every click already scheduled has been delivered (or dropped). */
  async idle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  stop(): void {
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    this.#abort.abort(new Error('on-call stopped'));
  }

  #consider(message: SlackMessageRecord): void {
    for (const request of findApprovalRequests(message.blocks)) {
      if (this.#answered.has(request.approvalId)) continue;
      this.#answered.add(request.approvalId);
      const base = { approvalId: request.approvalId, channel: message.channel, messageTs: message.ts };
      if (this.options.decision === 'ignore') {
        this.answers.push({ ...base, decision: 'ignore', at: this.clock.now() });
        continue;
      }
      const button = this.options.decision === 'approve' ? request.approve : request.reject;
      if (!button) {
        this.answers.push({
          ...base,
          decision: this.options.decision,
          at: this.clock.now(),
          error: `no ${this.options.decision} button`,
        });
        continue;
      }
      const task = this.#click(message, button, base).finally(() => this.#pending.delete(task));
      this.#pending.add(task);
    }
  }

  async #click(
    message: SlackMessageRecord,
    button: Parameters<typeof blockActionPayload>[0]['button'],
    base: Omit<OnCallAnswer, 'decision' | 'at'>,
  ): Promise<void> {
    try {
      await waitSim(this.clock, this.options.delayMs ?? 20_000, {
        signal: this.#abort.signal,
        ...(this.options.pollMs ? { pollMs: this.options.pollMs } : {}),
      });
    } catch {
      return;
    }
    const at = this.clock.now();
    const user = this.workspace.user(this.options.userName ?? 'oncall');
    const payload = blockActionPayload({
      workspace: this.workspace,
      message,
      button,
      user,
      responseUrl: this.options.responseUrl(message),
      actionTs: this.workspace.nextTs(at),
    });
    const targetUrl = this.options.targetUrl();
    if (!targetUrl) {
      this.answers.push({
        ...base,
        decision: this.options.decision,
        at,
        error: 'no interactions URL connected',
      });
      return;
    }
    try {
      const result = await deliverBlockAction(targetUrl, this.options.signingSecret, payload);
      this.answers.push({ ...base, decision: this.options.decision, at, status: result.status });
      if (result.status >= 300)
        this.#logger.warn(
          { status: result.status, approvalId: base.approvalId },
          'the app refused the on-call click',
        );
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.answers.push({ ...base, decision: this.options.decision, at, error: reason });
      this.#logger.warn({ approvalId: base.approvalId, reason }, 'on-call click not delivered');
    }
  }
}
