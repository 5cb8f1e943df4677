import { describeError, toIssues, type Issue } from '../shared/errors.js';
import { systemClock, type Clock } from '../shared/clock.js';
import { silentLogger, type Logger } from '../shared/logger.js';
import {
  clockFacts,
  evaluate,
  factsSchema,
  type BreakerState,
  type Decision,
  type Facts,
  type Mode,
  type PolicySet,
} from '../policy/index.js';
import type { ActionLog, ActionLogEntry } from './action-log.js';
import type { AuditInput, AuditLog } from './audit.js';
import { actionDefinition } from './catalog.js';
import type { FlagsApi } from './flags-api.js';
import type { KubernetesApi } from './kubernetes-api.js';
import { actionKey, proposalSchema, targetKey, type Proposal } from './proposal.js';
import { DEFAULT_RETRY, withRetries, type RetryOptions } from './retry.js';
import {
  blockersOf,
  describeTarget,
  type ActionContext,
  type ActionDefinition,
  type ActionPlan,
  type ActionTarget,
  type VerifyHint,
} from './types.js';

/** The policy's rate-limit window: actions in the last hour. */
export const RECENT_WINDOW_MS = 3_600_000;

/** Runtime switches from config, the API or Slack, read on every proposal. */
export interface ExecutorControls {
  /** Everything but `deny` becomes `shadow`. */
  killSwitch?: boolean;
  /** A cap on top of the policies' own `mode.max`. */
  maxMode?: Mode;
}

/** What the executor needs. Functions are read on every call, so reloads and switches apply at once. */
export interface ExecutorDeps {
  /** The current policy set (e.g. from the policy watcher). */
  policy: () => PolicySet;
  controls?: () => ExecutorControls;
  /** Maintenance and freeze flags from the team's calendar, for the `now` facts. */
  calendar?: () => { maintenance?: boolean; freeze?: boolean };
  actionLog: ActionLog;
  audit: AuditLog;
  kube: KubernetesApi;
  flags: FlagsApi;
  /** This executor instance, recorded as who acted, e.g. `nightshift/pod-7f9c`. */
  actor: string;
  clock?: Clock;
  /** The estate's time zone for `now.hour` and `now.weekday`; default UTC. */
  timeZone?: string;
  /** The cluster of targets that name none; default `default`. */
  defaultCluster?: string;
  retry?: Partial<RetryOptions>;
  /** How long an idempotency claim is kept; default 7 days. */
  claimTtlMs?: number;
  logger?: Logger;
  signal?: AbortSignal;
}

/** Everything verify needs to know about an executed action; JSON, so it can ride a queued job. */
export interface VerifyRequest {
  v: 1;
  key: string;
  incidentId: string;
  action: Proposal['action'];
  target: ActionTarget;
  params: Record<string, unknown>;
  hint: VerifyHint;
  /** What undo needs; absent when the action cannot be undone. */
  undo?: Record<string, unknown>;
  executedAt: number;
  actor: string;
  decision: { mode: Mode; rule?: string; policy?: string };
}

/**
 * What became of a proposal. Only `executed` and `failed` ever reached a write API; every
 * other status wrote nothing anywhere but the audit log and the action log.
 */
export type ExecutionResult =
  | { status: 'invalid'; issues: Issue[] }
  | { status: 'denied'; key: string; decision: Decision }
  | {
      status: 'shadow';
      key: string;
      decision: Decision;
      plan?: ActionPlan;
      planError?: string;
      message: string;
    }
  | {
      status: 'awaiting-approval';
      key: string;
      decision: Decision;
      approvers: string[];
      plan?: ActionPlan;
      planError?: string;
    }
  | { status: 'duplicate'; key: string; decision: Decision; existing?: ActionLogEntry }
  | { status: 'blocked'; key: string; decision: Decision; plan?: ActionPlan; reasons: string[] }
  | { status: 'noop'; key: string; decision: Decision; plan: ActionPlan }
  | { status: 'failed'; key: string; decision: Decision; plan: ActionPlan; error: string; attempts: number }
  | {
      status: 'executed';
      key: string;
      decision: Decision;
      plan: ActionPlan;
      verify: VerifyRequest;
      attempts: number;
    };

/** The context actions run in. */
export function actionContext(deps: Pick<ExecutorDeps, 'kube' | 'flags' | 'actor' | 'clock'>): ActionContext {
  const clock = deps.clock ?? systemClock;
  return { kube: deps.kube, flags: deps.flags, actor: deps.actor, now: () => clock.now() };
}

/** A breaker that counts as open: used when its state cannot be read, so autonomy stops. */
const UNKNOWN_BREAKER: BreakerState = { failures: [], openUntil: Number.MAX_SAFE_INTEGER };

interface Prepared {
  proposal: Proposal;
  definition: ActionDefinition<Record<string, unknown>>;
  params: Record<string, unknown>;
  key: string;
  target: string;
  cluster: string;
}

function prepare(input: unknown, defaultCluster: string): { ok: Prepared } | { issues: Issue[] } {
  const parsed = proposalSchema.safeParse(input);
  if (!parsed.success) return { issues: toIssues(parsed.error.issues) };
  const proposal = parsed.data;
  const definition = actionDefinition(proposal.action);
  const params = definition.params.safeParse(proposal.params);
  if (!params.success)
    return {
      issues: toIssues(params.error.issues).map((issue) => ({
        ...issue,
        path: `params${issue.path ? `.${issue.path}` : ''}`,
      })),
    };
  const issues: Issue[] = [];
  if (!definition.targetKinds.includes(proposal.target.kind))
    issues.push({
      path: 'target.kind',
      message: `${proposal.action} acts on ${definition.targetKinds.join(' or ')}, not ${proposal.target.kind}`,
    });
  if (definition.namespaced && !proposal.target.namespace)
    issues.push({ path: 'target.namespace', message: `${proposal.action} needs the target's namespace` });
  if (issues.length > 0) return { issues };
  return {
    ok: {
      proposal,
      definition,
      params: params.data,
      key: actionKey(proposal.incidentId, proposal.action, proposal.target, defaultCluster),
      target: targetKey(proposal.target, defaultCluster),
      cluster: proposal.target.cluster ?? defaultCluster,
    },
  };
}

/** The policy's decision on a prepared proposal, with `recent` and the breaker read from the action log. */
async function gate(
  prepared: Prepared,
  deps: ExecutorDeps,
  now: number,
): Promise<{ decision: Decision; policy: PolicySet }> {
  const { proposal, params, key, target, cluster } = prepared;
  const logger = deps.logger ?? silentLogger();
  let recent: Facts['recent'];
  let breaker: BreakerState;
  try {
    [recent, breaker] = await Promise.all([
      deps.actionLog.recent(target, cluster, now, RECENT_WINDOW_MS),
      deps.actionLog.breaker(),
    ]);
  } catch (error) {
    logger.warn(
      { err: error, key },
      'action log unreadable; rate limits count as reached and the breaker as open',
    );
    recent = undefined;
    breaker = UNKNOWN_BREAKER;
  }
  const facts = factsSchema.parse({
    action: { kind: proposal.action, params },
    target: proposal.target,
    now:
      proposal.facts.now ??
      clockFacts(now, { timeZone: deps.timeZone ?? 'UTC', ...(deps.calendar?.() ?? {}) }),
    hypothesis: proposal.hypothesis,
    ...(proposal.facts.incident ? { incident: proposal.facts.incident } : {}),
    ...(proposal.facts.pattern ? { pattern: proposal.facts.pattern } : {}),
    ...(proposal.facts.blastRadius ? { blastRadius: proposal.facts.blastRadius } : {}),
    ...(recent ? { recent } : {}),
  });
  const controls = deps.controls?.() ?? {};
  const policy = deps.policy();
  const decision = evaluate(policy, {
    facts,
    ...(controls.killSwitch ? { killSwitch: true } : {}),
    ...(controls.maxMode ? { maxMode: controls.maxMode } : {}),
    breaker,
    at: now,
  });
  return { decision, policy };
}

/**
 * What the policy would decide for a proposal right now, with the same facts `executeProposal`
 * uses (including `recent` and the breaker from the action log), without recording, planning or
 * executing anything. For choosing among proposals; `executeProposal` decides again when asked to act.
 */
export async function decideProposal(
  input: unknown,
  deps: ExecutorDeps,
): Promise<{ status: 'invalid'; issues: Issue[] } | { status: 'decided'; key: string; decision: Decision }> {
  const prepared = prepare(input, deps.defaultCluster ?? 'default');
  if ('issues' in prepared) return { status: 'invalid', issues: prepared.issues };
  const { decision } = await gate(prepared.ok, deps, (deps.clock ?? systemClock).now());
  return { status: 'decided', key: prepared.ok.key, decision };
}

/**
 * Runs one proposal through the pipeline:
 *
 * policy gate → dedup (claim the idempotency key in the action log) → audit record written
 * before the call → plan (read the live object) → preconditions → execute with retries
 * (retryable errors only) → record the outcome → a verify request.
 *
 * - `deny`: nothing but the audit record. `shadow`: the plan (reads only) is recorded as
 *   "would have done" with the evidence and returned for the incident thread; nothing is
 *   written. `approval` without `proposal.approval`: the plan goes back for a human.
 * - The policy sees `recent` facts counted from the action log (this agent's actions in the
 *   last hour on the target and in its cluster) and the persisted breaker state; when the log
 *   cannot be read, rate limits count as reached and the breaker as open.
 * - Only one caller ever executes a key: the claim is atomic across replicas. A key whose
 *   execution died mid-call stays claimed: it is reported as a duplicate, never re-run.
 * - A failed execution is reported to the circuit breaker.
 *
 * Never throws for bad input (`invalid`); rejects only when the audit log cannot record the
 * decision (then nothing was executed).
 */
export async function executeProposal(input: unknown, deps: ExecutorDeps): Promise<ExecutionResult> {
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger ?? silentLogger();
  const defaultCluster = deps.defaultCluster ?? 'default';
  const prepared = prepare(input, defaultCluster);
  if ('issues' in prepared) {
    const raw = (input ?? {}) as { incidentId?: unknown; action?: unknown };
    await deps.audit.append({
      type: 'invalid',
      incidentId: typeof raw.incidentId === 'string' ? raw.incidentId : 'unknown',
      key: '',
      action: typeof raw.action === 'string' ? raw.action : 'unknown',
      target: 'unknown',
      actor: deps.actor,
      error: prepared.issues.map((issue) => `${issue.path}: ${issue.message}`).join('; '),
      message: 'proposal rejected: it does not validate',
    });
    return { status: 'invalid', issues: prepared.issues };
  }
  const { proposal, definition, params, key, target, cluster } = prepared.ok;
  const now = clock.now();
  const label = describeTarget(proposal.target);

  const { decision, policy } = await gate(prepared.ok, deps, now);

  const base = {
    incidentId: proposal.incidentId,
    key,
    action: proposal.action,
    target: label,
    ref: {
      kind: proposal.target.kind,
      name: proposal.target.name,
      ...(proposal.target.namespace ? { namespace: proposal.target.namespace } : {}),
      cluster,
    },
    actor: deps.actor,
    mode: decision.mode,
    ...(decision.rule ? { rule: decision.rule } : {}),
    ...(decision.policy ? { policy: decision.policy } : {}),
    hypothesis: proposal.hypothesis,
    params,
  } satisfies Partial<AuditInput>;
  const audit = (record: Omit<AuditInput, keyof typeof base> & Partial<AuditInput>): Promise<unknown> =>
    deps.audit.append({ ...base, ...record });

  await audit({
    type: 'decision',
    reasons: decision.reasons,
    ...(decision.capped ? { capped: decision.capped.by } : {}),
    message: `policy: ${decision.mode} for ${proposal.action} on ${label}${decision.rule ? ` (${decision.rule})` : ''}`,
  });

  const context = actionContext(deps);
  const retry: RetryOptions = {
    ...DEFAULT_RETRY,
    ...deps.retry,
    ...(deps.signal ? { signal: deps.signal } : {}),
    onRetry: (error, attempt) =>
      logger.warn({ key, attempt, err: error.message }, 'retrying after a retryable error'),
  };
  const planReadOnly = async (): Promise<{ plan?: ActionPlan; error?: string }> => {
    try {
      return {
        plan: (await withRetries(() => definition.plan(context, proposal.target, params), retry)).value,
      };
    } catch (error) {
      return { error: describeError(error) };
    }
  };

  if (decision.mode === 'deny') {
    await audit({
      type: 'denied',
      reasons: decision.reasons,
      message: `denied: ${proposal.action} on ${label}`,
    });
    return { status: 'denied', key, decision };
  }

  if (decision.mode === 'shadow') {
    const { plan, error } = await planReadOnly();
    const message = plan
      ? `would have done: ${plan.summary}`
      : `would have run ${proposal.action} on ${label} (the plan could not be read: ${error ?? 'unknown'})`;
    await audit({
      type: 'shadow',
      reasons: decision.reasons,
      ...(plan ? { plan } : {}),
      ...(error ? { error } : {}),
      evidence: proposal.evidence,
      message,
    });
    return {
      status: 'shadow',
      key,
      decision,
      ...(plan ? { plan } : {}),
      ...(error ? { planError: error } : {}),
      message,
    };
  }

  if (decision.mode === 'approval' && !proposal.approval) {
    const { plan, error } = await planReadOnly();
    await audit({
      type: 'approval-requested',
      reasons: decision.reasons,
      ...(plan ? { plan } : {}),
      ...(error ? { error } : {}),
      evidence: proposal.evidence,
      message: `approval needed from ${decision.approvers.join(', ') || 'nobody named'}: ${plan?.summary ?? `${proposal.action} on ${label}`}`,
    });
    return {
      status: 'awaiting-approval',
      key,
      decision,
      approvers: decision.approvers,
      ...(plan ? { plan } : {}),
      ...(error ? { planError: error } : {}),
    };
  }

  const approvedBy = decision.mode === 'approval' ? proposal.approval?.by : undefined;
  const claimedAt = clock.now();
  const claim = await deps.actionLog.claim(
    {
      key,
      incidentId: proposal.incidentId,
      action: proposal.action,
      target,
      cluster,
      state: 'executing',
      owner: deps.actor,
      claimedAt,
      updatedAt: claimedAt,
    },
    deps.claimTtlMs ?? 7 * 86_400_000,
  );
  if (!claim.claimed) {
    await audit({
      type: 'duplicate',
      message: `already ${claim.existing?.state ?? 'claimed'} by ${claim.existing?.owner ?? 'another executor'}: not run again`,
    });
    return { status: 'duplicate', key, decision, ...(claim.existing ? { existing: claim.existing } : {}) };
  }

  const settle = (patch: Partial<ActionLogEntry>): Promise<void> =>
    deps.actionLog.update(key, { ...patch, updatedAt: clock.now() }).catch((error: unknown) => {
      logger.error({ err: error, key }, 'could not record the action state');
    });

  const planned = await planReadOnly();
  if (!planned.plan) {
    const reason = `the plan could not be read: ${planned.error ?? 'unknown'}`;
    await settle({ state: 'skipped', error: reason });
    await audit({ type: 'blocked', error: reason, message: `not run: ${reason}` });
    return { status: 'blocked', key, decision, reasons: [reason] };
  }
  const plan = planned.plan;
  const blockers = blockersOf(plan);
  if (blockers.length > 0) {
    await settle({ state: 'skipped', error: blockers.join('; ') });
    await audit({
      type: 'blocked',
      plan,
      error: blockers.join('; '),
      message: `not run: ${blockers.join('; ')}`,
    });
    return { status: 'blocked', key, decision, plan, reasons: blockers };
  }
  if (plan.noop) {
    await settle({ state: 'skipped', summary: plan.summary });
    await audit({ type: 'noop', plan, message: `nothing to do: ${plan.summary}` });
    return { status: 'noop', key, decision, plan };
  }

  const actor = approvedBy ?? deps.actor;
  try {
    await audit({
      type: 'execute-intent',
      actor,
      ...(approvedBy ? { approvedBy } : {}),
      reasons: decision.reasons,
      plan,
      message: `executing: ${plan.summary}`,
    });
  } catch (error) {
    await settle({ state: 'skipped', error: `no audit record: ${describeError(error)}` });
    throw error;
  }

  await deps.actionLog.recordStart(key, target, cluster, clock.now()).catch((error: unknown) => {
    logger.error({ err: error, key }, 'could not count the action for rate limits');
  });
  let attempts = 0;
  try {
    const { value: outcome, attempts: tries } = await withRetries((attempt) => {
      attempts = attempt;
      return definition.execute(context, proposal.target, params, plan);
    }, retry);
    attempts = tries;
    const executedAt = clock.now();
    await settle({ state: 'succeeded', summary: outcome.summary });
    await audit({
      type: 'executed',
      actor,
      ...(approvedBy ? { approvedBy } : {}),
      plan,
      outcome: { ...outcome.details, attempts, reversible: outcome.undo !== undefined },
      message: outcome.summary,
    });
    const verify: VerifyRequest = {
      v: 1,
      key,
      incidentId: proposal.incidentId,
      action: proposal.action,
      target: proposal.target,
      params,
      hint: definition.verify(proposal.target, params),
      ...(outcome.undo ? { undo: outcome.undo } : {}),
      executedAt,
      actor,
      decision: {
        mode: decision.mode,
        ...(decision.rule ? { rule: decision.rule } : {}),
        ...(decision.policy ? { policy: decision.policy } : {}),
      },
    };
    return { status: 'executed', key, decision, plan, verify, attempts };
  } catch (error) {
    const message = describeError(error);
    await settle({ state: 'failed', error: message });
    await deps.actionLog
      .reportFailure(key, clock.now(), policy.circuitBreaker)
      .catch((failure: unknown) =>
        logger.error({ err: failure, key }, 'could not report the failure to the breaker'),
      );
    await audit({
      type: 'failed',
      actor,
      ...(approvedBy ? { approvedBy } : {}),
      plan,
      error: message,
      outcome: { attempts },
      message: `failed after ${attempts} ${attempts === 1 ? 'try' : 'tries'}: ${message}`,
    });
    return { status: 'failed', key, decision, plan, error: message, attempts };
  }
}
