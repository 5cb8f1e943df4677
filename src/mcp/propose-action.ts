import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { clockFacts, evaluate, parseFacts, type FactsInput } from '../policy/index.js';
import { stableId } from '../shared/ids.js';
import { errorResult, guarded, jsonResult } from './tool-result.js';
import type { ActionProposal, McpServerDependencies } from './types.js';

/** The default link to review a proposal in the console. */
export function defaultApprovalLink(publicUrl: string): (proposal: ActionProposal) => string {
  const base = publicUrl.replace(/\/+$/, '');
  return (proposal) => {
    const query = proposal.incidentId ? `?incident=${encodeURIComponent(proposal.incidentId)}` : '';
    return `${base}/console/proposals/${encodeURIComponent(proposal.id)}${query}`;
  };
}

const name = z.string().min(1).max(253);

const proposalInput = {
  incidentId: z.string().min(1).max(1024).optional().describe('The incident this action would address'),
  action: z
    .strictObject({
      kind: z.string().min(1).max(128).describe('A catalog action, e.g. k8s.rollback, k8s.scale, flags.set'),
      params: z.record(z.string(), z.unknown()).default({}).describe('The action parameters'),
    })
    .describe('The action to propose'),
  target: z
    .strictObject({
      kind: name.describe('e.g. Deployment, Node, FeatureFlag'),
      name,
      namespace: name.optional(),
      cluster: name.optional(),
      environment: name.describe('e.g. prod, staging'),
      tier: z.enum(['critical', 'standard']).optional(),
      stateful: z.boolean().optional(),
      owner: name.optional(),
      labels: z.record(z.string(), z.string()).optional(),
      replicas: z.number().int().min(0).optional().describe('The current replica count'),
    })
    .describe('What the action would touch'),
  hypothesis: z
    .strictObject({ category: z.string().min(1), confidence: z.number().min(0).max(1) })
    .optional()
    .describe('The hypothesis the action answers, if any'),
};

/**
 * Registers `propose_action`: asks the policy what it would decide for an action and returns
 * the decision and a link where a human can review and approve it. It never executes, queues
 * or records anything; the action catalog and the approval flow are the only path to a write.
 */
export function registerProposeAction(
  server: McpServer,
  dependencies: McpServerDependencies & { maxOutputBytes: number },
): void {
  const { incidents, clock, logger, maxOutputBytes } = dependencies;
  const link =
    dependencies.approvalLink ?? defaultApprovalLink(dependencies.publicUrl ?? 'http://127.0.0.1:8080');

  server.registerTool(
    'propose_action',
    {
      title: 'Propose an action',
      description:
        "Asks nightshift's policy what it would decide for a remediation (deny, shadow, approval or " +
        'autonomous) and returns the decision, its reasons, the approvers and a link to review it. ' +
        'Never executes anything: approval happens in the console or Slack.',
      inputSchema: proposalInput,
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    (input) =>
      guarded(logger, 'propose_action', async () => {
        const policies = dependencies.policies();
        if (!policies) return errorResult('no policy is loaded, so no action can be proposed');
        const now = clock.now();
        const facts: FactsInput = {
          action: input.action,
          target: input.target,
          now: clockFacts(now, dependencies.timeZone ? { timeZone: dependencies.timeZone } : {}),
          ...(input.hypothesis ? { hypothesis: input.hypothesis } : {}),
        };
        if (input.incidentId) {
          const incident = await incidents.get(input.incidentId);
          if (!incident) return errorResult(`no incident "${input.incidentId}"`);
          facts.incident = {
            id: incident.id,
            severity: incident.severity,
            ageMs: Math.max(0, now - incident.openedAt),
          };
        }
        const proposal = toProposal(input);
        if (dependencies.enrichFacts) Object.assign(facts, await dependencies.enrichFacts(proposal));
        const parsed = parseFacts(facts);
        if (!parsed.ok) {
          return errorResult(
            `invalid proposal: ${parsed.issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')}`,
          );
        }
        const { target, action } = parsed.facts;
        const decision = evaluate(policies, {
          facts: parsed.facts,
          at: now,
          ...(dependencies.killSwitch?.() ? { killSwitch: true } : {}),
          ...(dependencies.maxMode ? { maxMode: dependencies.maxMode } : {}),
        });
        const reviewable = decision.mode === 'approval' || decision.mode === 'autonomous';
        logger.info(
          { proposal: proposal.id, action: action.kind, target: target.name, mode: decision.mode },
          'action proposed over mcp',
        );
        return jsonResult(
          {
            proposal,
            decision: {
              mode: decision.mode,
              ...(decision.policy ? { policy: decision.policy, rule: decision.rule } : {}),
              reasons: decision.reasons,
              approvers: decision.approvers,
              ...(decision.capped ? { capped: decision.capped } : {}),
            },
            executed: false,
            approvalUrl: reviewable ? link(proposal) : null,
            next: nextStep(decision.mode),
          },
          maxOutputBytes,
        );
      }),
  );
}

type ProposalInput = {
  incidentId?: string | undefined;
  action: { kind: string; params: Record<string, unknown> };
  target: {
    kind: string;
    name: string;
    namespace?: string | undefined;
    cluster?: string | undefined;
    environment: string;
  };
};

function toProposal(input: ProposalInput): ActionProposal {
  const { action, target } = input;
  return {
    id: stableId(
      'proposal',
      input.incidentId ?? '',
      action.kind,
      JSON.stringify(action.params),
      target.kind,
      target.cluster ?? '',
      target.namespace ?? '',
      target.name,
      target.environment,
    ),
    ...(input.incidentId ? { incidentId: input.incidentId } : {}),
    action: { kind: action.kind, params: action.params },
    target: {
      kind: target.kind,
      name: target.name,
      environment: target.environment,
      ...(target.namespace ? { namespace: target.namespace } : {}),
      ...(target.cluster ? { cluster: target.cluster } : {}),
    },
  };
}

function nextStep(mode: string): string {
  switch (mode) {
    case 'deny':
      return 'The policy forbids this action; it cannot be approved.';
    case 'shadow':
      return 'The policy allows only a suggestion: nothing can execute this action now.';
    default:
      return 'Nothing was executed. A human can review and approve it at approvalUrl.';
  }
}
