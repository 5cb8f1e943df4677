import { describeError } from '../shared/errors.js';
import { sleep as defaultSleep, systemClock, type Clock } from '../shared/clock.js';
import { silentLogger, type Logger } from '../shared/logger.js';
import type { PolicySet } from '../policy/index.js';
import type { ActionLog } from './action-log.js';
import type { AuditInput, AuditLog } from './audit.js';
import { actionDefinition } from './catalog.js';
import { actionContext, type ExecutorControls, type VerifyRequest } from './executor.js';
import type { FlagsApi } from './flags-api.js';
import type { KubernetesApi } from './kubernetes-api.js';
import { describeTarget } from './types.js';

/** One look at the symptoms: healthy or not, and what was seen. */
export interface SymptomReading {
  healthy: boolean;
  detail?: string;
}

/**
 * Reads the symptom state the action was meant to fix, e.g. the service's error rate and ready
 * replicas from metrics. Called once per interval; a rejection counts as not healthy.
 */
export type SymptomCheck = (request: VerifyRequest, signal?: AbortSignal) => Promise<SymptomReading>;

/** What verify needs; the same stores and clients as the executor. */
export interface VerifyDeps {
  check: SymptomCheck;
  kube: KubernetesApi;
  flags: FlagsApi;
  actionLog: ActionLog;
  audit: AuditLog;
  /** Read for the breaker configuration when a verify fails. */
  policy: () => PolicySet;
  /** With the kill switch on, a failed verify escalates without undoing (undo is a write). */
  controls?: () => ExecutorControls;
  actor: string;
  clock?: Clock;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Overrides of the action's hint (shorter windows in tests and demos). */
  window?: { windowMs?: number; intervalMs?: number; healthyChecks?: number };
  logger?: Logger;
  signal?: AbortSignal;
}

/** How undo went after a failed verify. */
export type UndoStatus = 'not-needed' | 'done' | 'failed' | 'not-possible' | 'held';

/** The verdict: `resolved`, or `escalate` (hand to a human) after undoing where possible. */
export interface VerifyResult {
  outcome: 'resolved' | 'escalate';
  checks: number;
  undo: UndoStatus;
  reason: string;
  lastReading?: SymptomReading;
}

/**
 * Watches the symptoms after an executed action: checks every `intervalMs` until
 * `healthyChecks` healthy readings in a row (resolved) or until `windowMs` has passed
 * (failed). On failure it undoes the action when the catalog can (unless the kill switch is
 * on), reports the failure to the circuit breaker, and answers `escalate`. Every step is
 * audited; the action log's entry ends `verified`, `undone` or `escalated`.
 */
export async function verifyAction(request: VerifyRequest, deps: VerifyDeps): Promise<VerifyResult> {
  const clock = deps.clock ?? systemClock;
  const wait = deps.sleep ?? defaultSleep;
  const logger = deps.logger ?? silentLogger();
  const windowMs = deps.window?.windowMs ?? request.hint.windowMs;
  const intervalMs = Math.max(1, deps.window?.intervalMs ?? request.hint.intervalMs);
  const needed = Math.max(1, deps.window?.healthyChecks ?? request.hint.healthyChecks);
  const label = describeTarget(request.target);
  const audit = (record: Pick<AuditInput, 'type' | 'message'> & Partial<AuditInput>): Promise<unknown> =>
    deps.audit.append({
      incidentId: request.incidentId,
      key: request.key,
      action: request.action,
      target: label,
      ref: {
        kind: request.target.kind,
        name: request.target.name,
        ...(request.target.namespace ? { namespace: request.target.namespace } : {}),
        ...(request.target.cluster ? { cluster: request.target.cluster } : {}),
      },
      actor: deps.actor,
      mode: request.decision.mode,
      ...(request.decision.rule ? { rule: request.decision.rule } : {}),
      ...(request.decision.policy ? { policy: request.decision.policy } : {}),
      ...record,
    });

  const started = clock.now();
  let checks = 0;
  let streak = 0;
  let last: SymptomReading | undefined;
  for (;;) {
    try {
      last = await deps.check(request, deps.signal);
    } catch (error) {
      last = { healthy: false, detail: `the check failed: ${describeError(error)}` };
    }
    checks++;
    streak = last.healthy ? streak + 1 : 0;
    if (streak >= needed) break;
    if (deps.signal?.aborted || clock.now() - started + intervalMs > windowMs) break;
    await wait(intervalMs, deps.signal);
  }

  if (streak >= needed) {
    await deps.actionLog
      .update(request.key, { state: 'verified', updatedAt: clock.now() })
      .catch(() => undefined);
    await audit({
      type: 'verified',
      outcome: { checks, healthyChecks: streak },
      message: `verified: ${request.hint.description} (${streak} healthy checks)`,
    });
    return { outcome: 'resolved', checks, undo: 'not-needed', reason: 'symptoms cleared', lastReading: last };
  }

  const reason = `symptoms persist after ${Math.round((clock.now() - started) / 1000)} s: ${last?.detail ?? 'not healthy'}`;
  await audit({
    type: 'verify-failed',
    outcome: { checks },
    error: reason,
    message: `verify failed: ${reason}`,
  });

  const definition = actionDefinition(request.action);
  let undo: UndoStatus = 'not-possible';
  if (definition.undo && request.undo) {
    if (deps.controls?.().killSwitch) {
      undo = 'held';
      await audit({ type: 'undo-failed', message: 'undo held: the kill switch is on; a human decides' });
    } else {
      try {
        const summary = await definition.undo(
          actionContext({ ...deps, clock }),
          request.target,
          request.undo,
        );
        undo = 'done';
        await audit({ type: 'undone', message: `undone: ${summary}` });
      } catch (error) {
        undo = 'failed';
        await audit({
          type: 'undo-failed',
          error: describeError(error),
          message: `undo failed: ${describeError(error)}`,
        });
      }
    }
  }
  await deps.actionLog
    .reportFailure(request.key, clock.now(), deps.policy().circuitBreaker)
    .catch((error: unknown) =>
      logger.error({ err: error, key: request.key }, 'could not report the failure to the breaker'),
    );
  await deps.actionLog
    .update(request.key, {
      state: undo === 'done' ? 'undone' : 'escalated',
      updatedAt: clock.now(),
      error: reason,
    })
    .catch(() => undefined);
  await audit({
    type: 'escalated',
    error: reason,
    outcome: { undo },
    message: `escalating ${request.action} on ${label}: ${reason}; undo ${undo}`,
  });
  return { outcome: 'escalate', checks, undo, reason, ...(last ? { lastReading: last } : {}) };
}
