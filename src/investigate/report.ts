import type { InvestigationContext } from './context.js';
import { quoteForMarkdown } from './quote.js';
import type { Evidence, Hypothesis, Proposal, RootCause, TokenUsage } from './types.js';

/** A tool call as the report lists it. */
export interface ReportedCall {
  callId: string;
  tool: string;
  input: Record<string, unknown>;
  status: 'ok' | 'no_data' | 'error';
  digest: string;
  hypothesisId: string;
}

/** The machine-readable report. */
export interface InvestigationReportJson {
  incidentId: string;
  planner: 'rules' | 'claude';
  fallbackReason?: string;
  stopReason: string;
  rootCause?: RootCause;
  evidenceChain: Array<Evidence & { hypothesisId: string }>;
  hypotheses: Array<{
    id: string;
    parentId: string | null;
    category: string;
    suspect: string;
    statement: string;
    status: string;
    prior: number;
    confidence: number;
    citedCalls: string[];
  }>;
  ruledOut: Array<{
    hypothesisId: string;
    statement: string;
    status: string;
    why: string[];
    citedCalls: string[];
  }>;
  blastRadius: { downstream: string[]; upstream: string[] };
  unknowns: string[];
  nextSteps: string[];
  proposals: Proposal[];
  toolCalls: ReportedCall[];
  tokens: TokenUsage;
}

export interface ReportInput {
  incidentId: string;
  context: InvestigationContext;
  tree: readonly Hypothesis[];
  rootCause?: RootCause;
  proposals: Proposal[];
  calls: readonly ReportedCall[];
  planner: 'rules' | 'claude';
  fallbackReason?: string;
  stopReason: string;
  budgetSpent?: string;
  tokens: TokenUsage;
}

const percent = (value: number): string => `${Math.round(value * 100)}%`;

function code(value: unknown): string {
  return `\`${JSON.stringify(value).replaceAll('`', "'")}\``;
}

function nextStepsFor(input: ReportInput): string[] {
  const steps: string[] = [];
  const root = input.rootCause;
  if (!root) {
    steps.push('No cause reached the confidence threshold: page the owning team with this report.');
    const best = [...input.tree]
      .filter((node) => node.status !== 'refuted')
      .sort((a, b) => b.confidence - a.confidence)[0];
    if (best)
      steps.push(`Start with the strongest open lead: ${best.statement} (${percent(best.confidence)}).`);
    return steps;
  }
  if (input.proposals.length > 0) {
    for (const proposal of input.proposals)
      steps.push(
        `Apply ${proposal.action} on ${proposal.target.kind} ${proposal.target.namespace ? `${proposal.target.namespace}/` : ''}${proposal.target.name} (subject to policy), then watch the symptoms recover.`,
      );
  } else {
    steps.push(
      `There is no safe automatic fix for ${root.category.replaceAll('_', ' ')}: escalate to the owner of ${root.suspect}.`,
    );
  }
  if (root.category === 'deploy_regression')
    steps.push('Review the diff of the bad deploy before rolling forward again.');
  if (root.category === 'memory_leak')
    steps.push(
      'A restart only buys time: find the leak (heap profile of a fresh pod against one near its limit).',
    );
  if (root.category === 'resource_saturation')
    steps.push('Check the autoscaler limits and where the extra traffic comes from.');
  if (root.category === 'node_issue') steps.push('Drain and inspect the node once its pods have moved.');
  if (root.category === 'flag_change')
    steps.push('Keep the flag off until the code path it enables is fixed and tested.');
  return steps;
}

function unknownsFor(input: ReportInput): string[] {
  const unknowns: string[] = [];
  if (!input.rootCause) unknowns.push('The root cause is not established.');
  if (input.budgetSpent)
    unknowns.push(`The investigation stopped because its ${input.budgetSpent} budget was spent.`);
  if (input.fallbackReason)
    unknowns.push(`The model planner was not used to the end: ${input.fallbackReason}.`);
  for (const node of input.tree) {
    if (node.status === 'inconclusive')
      unknowns.push(
        `Inconclusive: ${node.statement} (${percent(node.confidence)} after ${node.evidence.length} check(s)).`,
      );
    else if (node.status === 'open' || node.status === 'testing')
      unknowns.push(`Not fully tested: ${node.statement}.`);
  }
  const failed = input.calls.filter((call) => call.status === 'error');
  if (failed.length)
    unknowns.push(
      `${failed.length} tool call(s) failed: ${failed.map((call) => `[${call.callId}] ${call.tool}`).join(', ')}.`,
    );
  if (input.context.truncated) unknowns.push('Graph context was cut to fit the token budget.');
  return unknowns;
}

/** Builds the Markdown and JSON report. Tool output appears only as quoted, redacted evidence. */
export function buildReport(input: ReportInput): { markdown: string; json: InvestigationReportJson } {
  const evidenceChain = input.tree.flatMap((node) =>
    node.evidence.map((evidence) => ({ ...evidence, hypothesisId: node.id })),
  );
  const cited = (node: Hypothesis): string[] => [
    ...new Set(node.evidence.map((evidence) => evidence.callId)),
  ];
  const ruledOut = input.tree
    .filter((node) => node.status === 'refuted' || node.status === 'inconclusive')
    .map((node) => ({
      hypothesisId: node.id,
      statement: node.statement,
      status: node.status,
      why: node.evidence
        .filter((evidence) => evidence.verdict !== 'supports')
        .map((evidence) => `[${evidence.callId}] ${evidence.rationale}`),
      citedCalls: cited(node),
    }));
  const nextSteps = nextStepsFor(input);
  const unknowns = unknownsFor(input);
  const json: InvestigationReportJson = {
    incidentId: input.incidentId,
    planner: input.planner,
    ...(input.fallbackReason ? { fallbackReason: input.fallbackReason } : {}),
    stopReason: input.stopReason,
    ...(input.rootCause ? { rootCause: input.rootCause } : {}),
    evidenceChain,
    hypotheses: input.tree.map((node) => ({
      id: node.id,
      parentId: node.parentId,
      category: node.category,
      suspect: node.suspect,
      statement: node.statement,
      status: node.status,
      prior: node.prior,
      confidence: node.confidence,
      citedCalls: cited(node),
    })),
    ruledOut,
    blastRadius: {
      downstream: input.context.blastRadius.downstream.map((item) => item.id),
      upstream: input.context.blastRadius.upstream.map((item) => item.id),
    },
    unknowns,
    nextSteps,
    proposals: input.proposals,
    toolCalls: [...input.calls],
    tokens: input.tokens,
  };

  const lines: string[] = [`# Investigation of ${input.incidentId}`, ''];
  const root = input.rootCause;
  const rootNode = root ? input.tree.find((node) => node.id === root.hypothesisId) : undefined;
  if (root && rootNode) {
    lines.push(`**Root cause** (${percent(root.confidence)} confidence): ${root.statement}`, '');
    lines.push(`Category \`${root.category}\`, suspect \`${root.suspect}\`.`, '');
    lines.push('## Evidence chain', '');
    for (const evidence of rootNode.evidence) {
      lines.push(
        `- [${evidence.callId}] \`${evidence.tool}\` ${code(evidence.input)}: **${evidence.verdict}** (${evidence.rationale})`,
      );
      lines.push(quoteForMarkdown(evidence.outputDigest).replace(/^/gm, '  '));
    }
  } else {
    lines.push('**Root cause not established.**', '');
  }
  lines.push(
    '',
    `Planner: ${input.planner}${input.fallbackReason ? ` (fell back to rules: ${input.fallbackReason})` : ''}. Stopped: ${input.stopReason}.`,
    '',
  );

  lines.push('## Hypotheses ruled out', '');
  if (ruledOut.length === 0) lines.push('None.');
  for (const node of input.tree.filter(
    (item) => item.status === 'refuted' || item.status === 'inconclusive',
  )) {
    lines.push(`- ${node.statement}: **${node.status}** at ${percent(node.confidence)}`);
    for (const evidence of node.evidence)
      lines.push(`  - [${evidence.callId}] \`${evidence.tool}\` ${evidence.verdict}: ${evidence.rationale}`);
  }
  lines.push('', '## Other hypotheses', '');
  const others = input.tree.filter(
    (node) =>
      node.id !== root?.hypothesisId &&
      (node.status === 'supported' || node.status === 'open' || node.status === 'testing'),
  );
  if (others.length === 0) lines.push('None.');
  for (const node of others)
    lines.push(
      `- ${node.statement}: ${node.status} at ${percent(node.confidence)} (${
        cited(node)
          .map((id) => `[${id}]`)
          .join(' ') || 'not tested'
      })`,
    );

  lines.push('', '## Blast radius', '');
  lines.push(`- Downstream: ${json.blastRadius.downstream.slice(0, 20).join(', ') || 'none known'}`);
  lines.push(`- Upstream: ${json.blastRadius.upstream.slice(0, 20).join(', ') || 'none known'}`);

  lines.push('', '## Unknowns', '');
  lines.push(...(unknowns.length ? unknowns.map((item) => `- ${item}`) : ['- None recorded.']));
  lines.push('', '## Next steps', '');
  lines.push(...nextSteps.map((step) => `- ${step}`));
  if (input.proposals.length) {
    lines.push('', '## Proposed actions', '');
    for (const proposal of input.proposals)
      lines.push(
        `- \`${proposal.action}\` on ${proposal.target.kind} \`${proposal.target.namespace ? `${proposal.target.namespace}/` : ''}${proposal.target.name}\` ${code(proposal.params)}: ${proposal.rationale}`,
      );
  }
  lines.push('', '## Tool calls', '');
  for (const call of input.calls) {
    lines.push(`- [${call.callId}] \`${call.tool}\` ${code(call.input)} → ${call.status}`);
    lines.push(quoteForMarkdown(call.digest).replace(/^/gm, '  '));
  }
  return { markdown: `${lines.join('\n')}\n`, json };
}
