import {
  decideProposal,
  executeProposal,
  verifyAction,
  type ExecutorDeps,
  type ProposalInput,
  type SymptomCheck,
} from '../../act/index.js';
import type { GraphStore } from '../../graph/store.js';
import { writeSignal } from '../../ingest/graph-writer.js';
import type { SlackMessageLog } from '../../ingest/pollers/slack/message-feed.js';
import type { PagerDutyEventsClient } from '../../integrations/pagerduty/events.js';
import type { SlackIntegration } from '../../integrations/slack/index.js';
import { escapeText, type SlackMessage } from '../../integrations/slack/messages.js';
import { investigate, symptomKinds, type InvestigateDependencies } from '../../investigate/index.js';
import {
  learnFromIncident,
  patternFacts,
  patternKey,
  type IncidentOutcome,
  type PatternStore,
} from '../../learn/index.js';
import type { Decision, Incident, LoopDeps, Proposal, StepContext } from '../../loop/pipeline-types.js';
import { sleep, type Clock } from '../../shared/clock.js';
import { describeError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { IncidentJournal } from './journal.js';
import { catalogParams, targetFacts } from './targets.js';

/** Everything the loop's dependencies are made of; optional parts are simply not configured. */
export interface LoopDepsParts {
  graph: GraphStore;
  clock: Clock;
  logger: Logger;
  journal: IncidentJournal;
  patterns: PatternStore;
  investigation: Omit<InvestigateDependencies, 'graph' | 'clock' | 'logger'>;
  executor: ExecutorDeps;
  /** Reads symptoms after an action; without it, verify trusts the action's own success. */
  check?: SymptomCheck;
  verifyWindow?: { windowMs?: number; intervalMs?: number; healthyChecks?: number };
  slack?: SlackIntegration;
  /** Where ingested Slack messages are kept for the mentions poller, when it runs. */
  slackMessages?: SlackMessageLog;
  pagerduty?: PagerDutyEventsClient;
  /** Environment of targets whose labels name none. */
  environment: string;
  cluster: string;
  /** Where postmortem drafts go. */
  postmortemDir?: string;
  /** URL people reach this nightshift at, for links. */
  publicUrl?: string;
  /** Inconclusive investigations (no supported cause) run again after `delayMs`, up to `times` more. */
  reinvestigate?: { times: number; delayMs: number };
}

const CHANGE_TYPES: Record<string, string> = {
  deploy_regression: 'deploy',
  config_change: 'config',
  flag_change: 'flag',
  image: 'deploy',
};

function plainMessage(text: string): SlackMessage {
  return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: escapeText(text) } }] };
}

/** `<incidentKey>:<stage>:<round>-<index>` → the proposal index. */
function proposalIndex(step: StepContext | undefined): number {
  const match = /:(\d+)-(\d+)$/.exec(step?.idempotencyKey ?? '');
  return match ? Number(match[2]) : 0;
}

function severityOf(severity: Incident['severity']): 'critical' | 'error' | 'warning' | 'info' {
  return severity;
}

function approverOf(decision: Decision): string | undefined {
  return /approved by ([^;]+);/.exec(decision.reason)?.[1]?.trim();
}

function targetLabel(proposal: Proposal): string {
  return `${proposal.target.namespace ? `${proposal.target.namespace}/` : ''}${proposal.target.name}`;
}

/**
 * The loop's dependencies from the domains: the graph writer, the investigator, the policy and
 * action catalog, verify, escalation (PagerDuty and Slack) and learning. Every effect is keyed so
 * a retried step finds what it did: the action log dedups executions by incident × action ×
 * target, the approval store asks once per approval id, the pattern store counts an incident once.
 */
export function createLoopDeps(parts: LoopDepsParts): LoopDeps {
  const { graph, clock, logger, journal } = parts;

  const proposalInput = async (incident: Incident, proposal: Proposal): Promise<ProposalInput> => {
    const target = await targetFacts(proposal.target, {
      ...(parts.executor.kube ? { kube: parts.executor.kube } : {}),
      cluster: parts.cluster,
      environment: parts.environment,
    });
    const category = incident.rootCause?.category ?? 'unknown';
    const key = patternKey({
      category,
      suspectKind: proposal.target.kind,
      ...(target.tier ? { tier: target.tier } : {}),
      ...(CHANGE_TYPES[category] ? { changeType: CHANGE_TYPES[category] } : {}),
      action: proposal.action,
    });
    const record = await parts.patterns.get(key);
    return {
      incidentId: incident.id,
      action: proposal.action as ProposalInput['action'],
      target,
      params: catalogParams(proposal.action, proposal.params, target),
      hypothesis: { category, confidence: incident.rootCause?.confidence ?? 0 },
      facts: {
        incident: {
          id: incident.id,
          severity: incident.severity,
          ageMs: Math.max(0, clock.now() - incident.openedAt),
        },
        pattern: patternFacts(record),
      },
      evidence: [proposal.rationale],
    };
  };

  const thread = async (incident: Incident): Promise<{ channel: string; ts: string } | undefined> => {
    if (!parts.slack) return undefined;
    try {
      return await parts.slack.postIncidentThread({
        incidentId: incident.id,
        title: incident.title,
        severity: incident.severity,
        ...(parts.publicUrl
          ? { url: `${parts.publicUrl}/incidents/${encodeURIComponent(incident.id)}` }
          : {}),
      });
    } catch (error) {
      logger.warn(
        { err: describeError(error), incident: incident.id },
        'could not post the incident thread to Slack',
      );
      return undefined;
    }
  };

  const escalate: LoopDeps['escalate'] = async (incident, reason) => {
    await journal.append(incident.id, reason, clock.now());
    logger.warn({ incident: incident.id, reason }, 'escalating to a human');
    const entry = await journal.get(incident.id);
    const cause = entry.investigation?.causes[0];
    if (parts.pagerduty) {
      await parts.pagerduty.trigger({
        incidentId: incident.id,
        summary: `${incident.title}: ${reason}`.slice(0, 1000),
        severity:
          incident.severity === 'critical'
            ? 'critical'
            : incident.severity === 'info'
              ? 'info'
              : incident.severity,
        startedAt: incident.openedAt,
        ...(cause ? { rootCause: cause.statement, confidence: cause.confidence } : {}),
        evidence: (entry.investigation?.evidence ?? []).slice(0, 10).map((summary) => ({ summary })),
        reason,
      });
    }
    const posted = await thread(incident);
    if (posted && parts.slack)
      await parts.slack
        .postMessage(posted, plainMessage(`Escalated to a human: ${reason}`))
        .catch((error: unknown) =>
          logger.warn({ err: describeError(error) }, 'could not post the escalation'),
        );
  };

  return {
    persistSignal: async (signal) => {
      const written = await writeSignal(graph, signal, { clock });
      // After the graph write, so a retried job appends again rather than never (the poller's
      // writes are idempotent).
      await parts.slackMessages?.append(signal);
      return written;
    },

    investigate: async (first, signal, current) => {
      const again = parts.reinvestigate ?? { times: 0, delayMs: 0 };
      let input = first;
      let result = await investigate(input, { ...parts.investigation, graph, clock, logger }, signal);
      for (let attempt = 0; attempt < again.times && !result.rootCause && !signal.aborted; attempt++) {
        logger.info(
          { incident: input.incidentId, attempt: attempt + 1 },
          'inconclusive; investigating again once more evidence has accrued',
        );
        await sleep(again.delayMs, signal).catch(() => undefined);
        if (signal.aborted) break;
        // Signals that joined meanwhile (other symptoms, analyzer findings) are part of the next look.
        input = (await current?.().catch(() => undefined)) ?? input;
        result = await investigate(input, { ...parts.investigation, graph, clock, logger }, signal);
      }
      const evidence = result.tree.flatMap((node) =>
        node.evidence.map((item) => `${item.tool}: ${item.verdict} (${item.outputDigest})`),
      );
      await journal.set(input.incidentId, 'investigation', {
        // The root cause first (the deepest supported explanation), then the rest by confidence.
        causes: result.tree
          .filter((node) => node.status !== 'refuted')
          .sort(
            (a, b) =>
              Number(b.id === result.rootCause?.hypothesisId) -
                Number(a.id === result.rootCause?.hypothesisId) || b.confidence - a.confidence,
          )
          .slice(0, 5)
          .map((node) => ({
            category: node.category,
            suspect: node.suspect,
            confidence: node.confidence,
            statement: node.statement,
          })),
        toolCalls: result.toolCalls,
        tokens: { input: result.tokens.input, output: result.tokens.output },
        planner: result.planner,
        ...(result.fallbackReason ? { fallbackReason: result.fallbackReason } : {}),
        symptoms: symptomKinds(input.signals).slice(0, 20),
        evidence: evidence.slice(0, 50),
        markdown: result.report.markdown,
        at: clock.now(),
      });
      return {
        ...(result.rootCause ? { rootCause: result.rootCause } : {}),
        proposals: result.proposals,
        report: {
          markdown: result.report.markdown,
          json: { toolCalls: result.toolCalls, planner: result.planner },
        },
        ...(result.firstToolCallAt !== undefined ? { firstToolCallAt: result.firstToolCallAt } : {}),
      };
    },

    respond: async (incident, proposal, step) => {
      const input = await proposalInput(incident, proposal);
      const answer = await decideProposal(input, parts.executor);
      if (answer.status === 'invalid') {
        const reason = `the proposal is not valid for the catalog: ${answer.issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')}`;
        return { mode: 'deny', reason };
      }
      const { decision } = answer;
      const reason = decision.reasons.join('; ') || `policy: ${decision.mode}`;
      // A first-of-its-kind case that a human must approve also pages the on-call, so the
      // approval does not wait on someone happening to read Slack. Paged once per incident.
      const firstOfItsKind = (input.facts?.pattern?.seen ?? 0) === 0;
      if (parts.pagerduty && firstOfItsKind && decision.mode === 'approval' && proposalIndex(step) === 0) {
        await parts.pagerduty.trigger({
          incidentId: incident.id,
          summary: `${incident.title}: approval needed for ${proposal.action} ${targetLabel(proposal)}`.slice(
            0,
            1000,
          ),
          severity: incident.severity,
          startedAt: incident.openedAt,
          ...(incident.rootCause
            ? { rootCause: incident.rootCause.statement, confidence: incident.rootCause.confidence }
            : {}),
          proposedAction: `${proposal.action} ${targetLabel(proposal)}`,
          reason: 'first of its kind: no earlier incident of this pattern; a human decides',
        });
        await journal.set(incident.id, 'pagedAt', clock.now());
      }
      const entry = await journal.get(incident.id);
      await journal.set(incident.id, 'decisions', [
        ...(entry.decisions ?? []),
        {
          action: proposal.action,
          target: targetLabel(proposal),
          targetKind: proposal.target.kind,
          ...(input.target.tier ? { tier: input.target.tier } : {}),
          decision: { mode: decision.mode, reason, ...(decision.rule ? { rule: decision.rule } : {}) },
        },
      ]);
      if (decision.mode === 'shadow' || decision.mode === 'approval') {
        // Records "would have done" (shadow) or prepares the plan for the approver; writes nothing.
        const result = await executeProposal(input, parts.executor);
        const posted = await thread(incident);
        if (posted && parts.slack && result.status === 'shadow')
          await parts.slack
            .postSuggestion(posted, {
              action: `${proposal.action} ${targetLabel(proposal)}`,
              reason: result.message,
              confidence: input.hypothesis.confidence,
              policy: reason,
            })
            .catch((error: unknown) =>
              logger.warn({ err: describeError(error) }, 'could not post the suggestion'),
            );
        if (parts.slack && result.status === 'awaiting-approval')
          await parts.slack.requestApproval({
            approvalId: `${incident.key}.r${incident.round}.p${proposalIndex(step)}`,
            incidentId: incident.id,
            title: `${proposal.action} ${targetLabel(proposal)}`,
            plan: result.plan?.summary ?? proposal.rationale,
            confidence: input.hypothesis.confidence,
            approvers: result.approvers,
            ...(posted ? { channel: posted.channel, threadTs: posted.ts } : {}),
          });
      }
      return { mode: decision.mode, reason, ...(decision.rule ? { rule: decision.rule } : {}) };
    },

    execute: async (incident, proposal, decision, step) => {
      const input = await proposalInput(incident, proposal);
      const approver = decision.mode === 'approval' ? approverOf(decision) : undefined;
      const result = await executeProposal(
        approver ? { ...input, approval: { by: approver, at: clock.now() } } : input,
        parts.executor,
      );
      if (approver && parts.slack) {
        const approvalId = `${incident.key}.r${incident.round}.p${proposalIndex(step)}`;
        const status =
          result.status === 'executed' || result.status === 'duplicate'
            ? 'succeeded'
            : result.status === 'noop'
              ? 'skipped'
              : 'failed';
        await parts.slack
          .reportOutcome(approvalId, {
            status,
            summary: `${proposal.action} ${targetLabel(proposal)}: ${result.status}`,
          })
          .catch((error: unknown) =>
            logger.warn({ err: describeError(error), approvalId }, 'could not report the outcome in Slack'),
          );
      }
      await journal.set(incident.id, 'execution', {
        action: proposal.action,
        target: targetLabel(proposal),
        status: result.status,
        at: clock.now(),
        ...(approver ? { by: approver } : {}),
      });
      switch (result.status) {
        case 'executed':
          await journal.set(incident.id, 'verify', result.verify);
          return { outcome: 'done', detail: result.plan.summary };
        case 'noop':
          return { outcome: 'skipped', detail: result.plan.summary };
        case 'duplicate':
          return result.existing?.state === 'failed'
            ? { outcome: 'failed', detail: 'an earlier attempt of this action failed' }
            : { outcome: 'done', detail: `already ${result.existing?.state ?? 'claimed'}` };
        case 'failed':
          return { outcome: 'failed', detail: result.error };
        case 'invalid':
          return { outcome: 'failed', detail: result.issues };
        default:
          return { outcome: 'failed', detail: `not executed: ${result.status}` };
      }
    },

    verify: async (incident, step) => {
      const entry = await journal.get(incident.id);
      if (!entry.verify) return { ok: true, detail: 'nothing was executed that verify could re-check' };
      if (!parts.check)
        return { ok: true, detail: 'no symptom check configured; the action reported success' };
      const result = await verifyAction(entry.verify, {
        check: parts.check,
        kube: parts.executor.kube,
        flags: parts.executor.flags,
        actionLog: parts.executor.actionLog,
        audit: parts.executor.audit,
        policy: parts.executor.policy,
        ...(parts.executor.controls ? { controls: parts.executor.controls } : {}),
        actor: parts.executor.actor,
        clock,
        ...(parts.verifyWindow ? { window: parts.verifyWindow } : {}),
        logger,
        ...(step ? { signal: step.signal } : {}),
      });
      await journal.set(incident.id, 'verified', {
        ok: result.outcome === 'resolved',
        at: clock.now(),
        reason: result.reason,
      });
      return { ok: result.outcome === 'resolved', detail: result.reason };
    },

    escalate,

    learn: async (incident) => {
      const entry = await journal.get(incident.id);
      // An escalated incident nightshift later saw resolved closes its page too.
      const paged = (entry.escalations ?? []).length > 0 || entry.pagedAt !== undefined;
      if (parts.pagerduty && incident.state === 'resolved' && paged)
        await parts.pagerduty.resolve(incident.id);
      const execution = entry.execution;
      const decision = entry.decisions?.[0];
      const category = incident.rootCause?.category ?? 'unknown';
      const outcome: IncidentOutcome = {
        incidentId: incident.id,
        title: incident.title,
        severity: severityOf(incident.severity),
        openedAt: incident.openedAt,
        endedAt: incident.updatedAt,
        state: incident.state === 'escalated' ? 'escalated' : 'resolved',
        symptoms: entry.investigation?.symptoms ?? [],
        // The pattern is counted for what was acted on, as respond keyed it for the policy.
        ...(incident.rootCause
          ? {
              suspect: {
                id: incident.rootCause.suspect,
                kind: decision?.targetKind ?? 'unknown',
                ...(decision?.tier ? { tier: decision.tier } : {}),
              },
            }
          : {}),
        ...(incident.rootCause
          ? {
              rootCause: {
                category,
                statement: incident.rootCause.statement,
                confidence: incident.rootCause.confidence,
              },
            }
          : {}),
        ...(CHANGE_TYPES[category] ? { changeType: CHANGE_TYPES[category] } : {}),
        ...(decision
          ? {
              remediation: {
                action: decision.action,
                target: decision.target,
                mode: decision.decision.mode,
                disposition:
                  execution && (execution.status === 'executed' || execution.status === 'duplicate')
                    ? 'executed'
                    : 'suggested',
                ...(entry.verified ? { mitigated: entry.verified.ok } : {}),
                ...(entry.verified?.ok ? { mitigatedAt: entry.verified.at } : {}),
              },
            }
          : {}),
        timeline: incident.transitions.map((item) => ({
          at: item.at,
          what: `${item.from} → ${item.to}: ${item.reason}`,
          by: `${item.by.kind}:${item.by.id}`,
        })),
        evidence: entry.investigation?.evidence ?? [],
      };
      await learnFromIncident(outcome, {
        graph,
        patterns: parts.patterns,
        ...(parts.postmortemDir ? { postmortemDir: parts.postmortemDir } : {}),
      });
    },
  };
}
