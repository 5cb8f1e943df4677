import type { Clock } from '../../shared/clock.js';
import { ValidationError } from '../../shared/errors.js';
import { newId } from '../../shared/ids.js';
import type { Logger } from '../../shared/logger.js';
import type {
  ApprovalDecisionRecord,
  ApprovalRecord,
  ApprovalStore,
  DecideResult,
} from './approval-store.js';
import type { ApprovalOutcome } from './messages.js';

/** The default time a human has to decide. */
export const DEFAULT_APPROVAL_TTL_MS = 15 * 60_000;

/** A request for a human decision on one planned action. */
export interface ApprovalRequestInput {
  /** Stable id (e.g. from incident × action × target) so a replayed job asks once. Default: new. */
  approvalId?: string;
  incidentId: string;
  title: string;
  plan: string;
  confidence: number;
  evidenceUrl?: string;
  /** From the policy decision: Slack user ids and user group ids. Empty: nobody can approve. */
  approvers: readonly string[];
  /** Default 15 minutes. */
  ttlMs?: number;
  /** Post into this thread (the incident thread) in this channel. */
  channel?: string;
  threadTs?: string;
}

/** The decision handed to `onDecision`, once per approval across every replica. */
export interface ApprovalDecision {
  approvalId: string;
  incidentId: string;
  decision: 'approved' | 'rejected';
  /** Slack user id, or `api:<name>` when decided through the HTTP API. */
  by: string;
  via: 'slack' | 'api';
  at: number;
  record: ApprovalRecord;
}

/** What an attempt to decide came to. */
export type DecisionAttempt =
  | { status: 'decided'; decision: ApprovalDecisionRecord }
  | { status: 'already_decided'; decision: ApprovalDecisionRecord }
  | { status: 'expired'; decision: ApprovalDecisionRecord }
  | { status: 'unknown' };

/** Where approval requests are shown; the Slack app implements it. */
export interface ApprovalPresenter {
  /** Posts the request with its buttons; answers where it went. */
  post(record: ApprovalRecord): Promise<{ channel: string; ts: string }>;
  /** Replaces the request with its decision (and the outcome, once known). */
  decided(record: ApprovalRecord, decision: ApprovalDecisionRecord, outcome?: ApprovalOutcome): Promise<void>;
}

/** Options of the service. */
export interface ApprovalServiceOptions {
  store: ApprovalStore;
  clock: Clock;
  logger: Logger;
  presenter: ApprovalPresenter;
  defaultTtlMs?: number;
  /** Called once per approval, by the replica whose decision won. */
  onDecision?: (decision: ApprovalDecision) => void | Promise<void>;
  /** Called once per approval that reached its deadline undecided (escalate). */
  onExpired?: (record: ApprovalRecord) => void | Promise<void>;
}

/**
 * The approval flow shared by Slack buttons and the HTTP API: request (store, then post), decide
 * (atomic; the winner updates the message, then calls `onDecision`), expire (the sweep decides
 * `expired` and calls `onExpired`), and report the action's outcome on the message. Callback
 * and message-update failures are logged; the recorded decision stands.
 */
export class ApprovalService {
  readonly #options: ApprovalServiceOptions;

  constructor(options: ApprovalServiceOptions) {
    this.#options = options;
  }

  get store(): ApprovalStore {
    return this.#options.store;
  }

  /**
   * Stores and posts an approval request. Safe to call twice with the same `approvalId`: the
   * second call answers the stored record and posts nothing (unless the first post failed).
   */
  async request(input: ApprovalRequestInput): Promise<ApprovalRecord> {
    if (!Number.isFinite(input.confidence) || input.confidence < 0 || input.confidence > 1)
      throw new ValidationError('approval request', [{ path: 'confidence', message: 'must be within 0..1' }]);
    const now = this.#options.clock.now();
    const record: ApprovalRecord = {
      v: 1,
      id: input.approvalId ?? newId('apr'),
      incidentId: input.incidentId,
      title: input.title,
      plan: input.plan,
      confidence: input.confidence,
      approvers: [...input.approvers],
      requestedAt: now,
      expiresAt: now + (input.ttlMs ?? this.#options.defaultTtlMs ?? DEFAULT_APPROVAL_TTL_MS),
      ...(input.evidenceUrl ? { evidenceUrl: input.evidenceUrl } : {}),
      ...(input.channel ? { channel: input.channel } : {}),
      ...(input.threadTs ? { threadTs: input.threadTs } : {}),
    };
    const created = await this.#options.store.create(record, now);
    if (!created) {
      const existing = await this.#options.store.get(record.id);
      if (existing?.ts !== undefined || !existing) return existing ?? record;
      return this.#post(existing);
    }
    return this.#post(record);
  }

  async #post(record: ApprovalRecord): Promise<ApprovalRecord> {
    const where = await this.#options.presenter.post(record);
    const posted = { ...record, channel: where.channel, ts: where.ts };
    await this.#options.store.update(posted);
    this.#options.logger.info(
      { approvalId: record.id, incidentId: record.incidentId, expiresAt: record.expiresAt },
      'approval requested',
    );
    return posted;
  }

  /**
   * Decides an approval unless it is decided already or past its deadline (then it expires
   * here). The caller has checked that `by` may decide.
   */
  async decide(
    approvalId: string,
    decision: 'approved' | 'rejected',
    actor: { by: string; via: 'slack' | 'api' },
  ): Promise<DecisionAttempt> {
    const record = await this.#options.store.get(approvalId);
    if (!record) return { status: 'unknown' };
    const now = this.#options.clock.now();
    if (now >= record.expiresAt) {
      const expired = await this.#expire(record);
      return expired.status === 'unknown'
        ? expired
        : {
            status: expired.decision.decision === 'expired' ? 'expired' : 'already_decided',
            decision: expired.decision,
          };
    }
    const result = await this.#options.store.decide(record, {
      decision,
      by: actor.by,
      via: actor.via,
      at: now,
    });
    if (result.status === 'unknown') return result;
    if (result.status === 'lost') return { status: 'already_decided', decision: result.decision };
    const logger = this.#options.logger.child({ approvalId, incidentId: record.incidentId });
    logger.info({ decision, by: actor.by, via: actor.via }, 'approval decided');
    await this.#present(record, result.decision);
    try {
      await this.#options.onDecision?.({
        approvalId,
        incidentId: record.incidentId,
        decision,
        by: actor.by,
        via: actor.via,
        at: now,
        record,
      });
    } catch (error) {
      logger.error(
        { err: error instanceof Error ? error.message : String(error) },
        'approval decision handler failed',
      );
    }
    return { status: 'decided', decision: result.decision };
  }

  /** Updates the request message with what the approved action did. */
  async reportOutcome(approvalId: string, outcome: ApprovalOutcome): Promise<void> {
    const [record, decision] = await Promise.all([
      this.#options.store.get(approvalId),
      this.#options.store.decision(approvalId),
    ]);
    if (!record || !decision) return;
    await this.#present(record, decision, outcome);
  }

  /** Expires every approval past its deadline; answers how many this call expired. Never throws. */
  async sweepExpired(): Promise<number> {
    let expired = 0;
    try {
      const due = await this.#options.store.due(this.#options.clock.now());
      for (const id of due) {
        const record = await this.#options.store.get(id);
        if (!record) {
          await this.#options.store.forget(id);
          continue;
        }
        if ((await this.#expire(record)).status === 'won') expired++;
      }
    } catch (error) {
      this.#options.logger.warn(
        { err: error instanceof Error ? error.message : String(error) },
        'approval expiry sweep failed; retrying on the next tick',
      );
    }
    return expired;
  }

  async #expire(record: ApprovalRecord): Promise<DecideResult> {
    const result = await this.#options.store.decide(record, {
      decision: 'expired',
      by: 'nightshift',
      via: 'expiry',
      at: this.#options.clock.now(),
    });
    if (result.status !== 'won') return result;
    const logger = this.#options.logger.child({ approvalId: record.id, incidentId: record.incidentId });
    logger.warn('approval expired undecided');
    await this.#present(record, result.decision);
    try {
      await this.#options.onExpired?.(record);
    } catch (error) {
      logger.error(
        { err: error instanceof Error ? error.message : String(error) },
        'approval expiry handler failed',
      );
    }
    return result;
  }

  async #present(
    record: ApprovalRecord,
    decision: ApprovalDecisionRecord,
    outcome?: ApprovalOutcome,
  ): Promise<void> {
    try {
      await this.#options.presenter.decided(record, decision, outcome);
    } catch (error) {
      this.#options.logger.warn(
        { approvalId: record.id, err: error instanceof Error ? error.message : String(error) },
        'could not update the approval message',
      );
    }
  }
}
