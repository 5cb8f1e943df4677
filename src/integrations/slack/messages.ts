import type { types } from '@slack/bolt';
import type { ApprovalDecisionRecord, ApprovalRecord } from './approval-store.js';
import { isGroupId } from './approvers.js';

/** A message body: fallback text (notifications, screen readers) and its blocks. */
export interface SlackMessage {
  text: string;
  blocks: types.KnownBlock[];
}

/** The action ids of the approval buttons; their value is the approval id. */
export const APPROVE_ACTION = 'approve';
export const REJECT_ACTION = 'reject';

/**
 * Escapes text for mrkdwn. Text from alerts, logs and reports is data: escaping keeps it from
 * forming mentions (`<!channel>`), links or user references.
 */
export function escapeText(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

function clip(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
}

function section(text: string): types.SectionBlock {
  return { type: 'section', text: { type: 'mrkdwn', text: clip(text, 3000) } };
}

function context(text: string): types.ContextBlock {
  return { type: 'context', elements: [{ type: 'mrkdwn', text: clip(text, 3000) }] };
}

function percent(confidence: number): string {
  return `${Math.round(confidence * 100)}%`;
}

/** A Slack date token that renders in the reader's time zone. */
function slackDate(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  return `<!date^${seconds}^{date_short_pretty} {time}|${new Date(ms).toISOString()}>`;
}

function link(url: string, label: string): string {
  return `<${url.replaceAll('|', '%7C').replaceAll('>', '%3E')}|${escapeText(label)}>`;
}

/** A user or group reference that Slack renders as a name. */
export function mention(id: string): string {
  if (isGroupId(id)) return `<!subteam^${id}>`;
  if (/^[UW][A-Z0-9]+$/.test(id)) return `<@${id}>`;
  return escapeText(id);
}

/** The incident's root message, which its thread hangs from. */
export interface IncidentThreadInput {
  incidentId: string;
  title: string;
  severity: string;
  summary?: string;
  url?: string;
}

export function incidentRootMessage(input: IncidentThreadInput): SlackMessage {
  const title = `:rotating_light: *${escapeText(input.title)}* (${escapeText(input.severity)})`;
  const blocks: types.KnownBlock[] = [section(title)];
  if (input.summary) blocks.push(section(escapeText(input.summary)));
  blocks.push(
    context(
      `Incident \`${escapeText(input.incidentId)}\`${input.url ? ` · ${link(input.url, 'open in nightshift')}` : ''}`,
    ),
  );
  return { text: `Incident: ${input.title} (${input.severity})`, blocks };
}

/** One piece of evidence in a report. */
export interface EvidenceItem {
  summary: string;
  url?: string;
}

/** The investigation's finding. */
export interface InvestigationReport {
  rootCause: string;
  confidence: number;
  evidence: readonly EvidenceItem[];
  proposedAction?: string;
  /** Hypotheses tested and ruled out, in words. */
  ruledOut?: readonly string[];
}

export function reportMessage(report: InvestigationReport): SlackMessage {
  const evidence = report.evidence
    .slice(0, 10)
    .map((item) => `• ${item.url ? link(item.url, item.summary) : escapeText(item.summary)}`)
    .join('\n');
  const blocks: types.KnownBlock[] = [
    section(
      `*Likely root cause* (confidence ${percent(report.confidence)})\n${escapeText(report.rootCause)}`,
    ),
  ];
  if (evidence) blocks.push(section(`*Evidence*\n${evidence}`));
  if (report.ruledOut && report.ruledOut.length > 0)
    blocks.push(section(`*Ruled out*\n${report.ruledOut.map((item) => `• ${escapeText(item)}`).join('\n')}`));
  if (report.proposedAction) blocks.push(section(`*Proposed action*\n${escapeText(report.proposedAction)}`));
  return {
    text: `Likely root cause (${percent(report.confidence)}): ${report.rootCause}`,
    blocks,
  };
}

/** What nightshift would have done in shadow mode. */
export interface ShadowSuggestion {
  action: string;
  reason: string;
  confidence: number;
  /** The policy rule that chose shadow mode. */
  policy?: string;
}

export function suggestionMessage(suggestion: ShadowSuggestion): SlackMessage {
  return {
    text: `Shadow mode: would ${suggestion.action}`,
    blocks: [
      section(
        `:ghost: *Shadow mode:* I would *${escapeText(suggestion.action)}* (confidence ${percent(suggestion.confidence)})\n${escapeText(suggestion.reason)}`,
      ),
      context(
        `Nothing was changed.${suggestion.policy ? ` Policy rule \`${escapeText(suggestion.policy)}\`.` : ''}`,
      ),
    ],
  };
}

function approvalBody(record: ApprovalRecord): types.KnownBlock[] {
  const fields = [
    `*Confidence*\n${percent(record.confidence)}`,
    `*Incident*\n\`${escapeText(record.incidentId)}\``,
  ];
  if (record.evidenceUrl) fields.push(`*Evidence*\n${link(record.evidenceUrl, 'open')}`);
  return [
    section(`*Approval needed:* ${escapeText(record.title)}`),
    section(`*Plan*\n\`\`\`${escapeText(clip(record.plan, 2800))}\`\`\``),
    { type: 'section', fields: fields.map((text) => ({ type: 'mrkdwn', text })) },
  ];
}

/** The approval request with its Approve and Reject buttons. */
export function approvalRequestMessage(record: ApprovalRecord): SlackMessage {
  const approvers = record.approvers.map(mention).join(', ') || 'nobody (configure approvers)';
  return {
    text: `Approval needed: ${record.title}`,
    blocks: [
      ...approvalBody(record),
      {
        type: 'actions',
        block_id: 'approval',
        elements: [
          {
            type: 'button',
            action_id: APPROVE_ACTION,
            value: record.id,
            style: 'primary',
            text: { type: 'plain_text', text: 'Approve' },
          },
          {
            type: 'button',
            action_id: REJECT_ACTION,
            value: record.id,
            style: 'danger',
            text: { type: 'plain_text', text: 'Reject' },
          },
        ],
      },
      context(`Approvers: ${approvers} · expires ${slackDate(record.expiresAt)}`),
    ],
  };
}

const VERDICT: Record<ApprovalDecisionRecord['decision'], string> = {
  approved: ':white_check_mark: Approved',
  rejected: ':no_entry: Rejected',
  expired: ':hourglass: Expired',
};

function who(decision: ApprovalDecisionRecord): string {
  if (decision.via === 'expiry') return 'with no decision; escalated to the on-call';
  const by = decision.by.startsWith('api:') ? escapeText(decision.by.slice(4)) : mention(decision.by);
  return `by ${by}${decision.via === 'api' ? ' (API)' : ''}`;
}

/** What became of the approved action. */
export interface ApprovalOutcome {
  status: 'succeeded' | 'failed' | 'skipped';
  summary: string;
}

/** The request after its decision (buttons gone), optionally with the action's outcome. */
export function approvalDecidedMessage(
  record: ApprovalRecord,
  decision: ApprovalDecisionRecord,
  outcome?: ApprovalOutcome,
): SlackMessage {
  const verdict = `${VERDICT[decision.decision]} ${who(decision)} at ${slackDate(decision.at)}`;
  const next =
    outcome !== undefined
      ? `*Outcome:* ${outcome.status === 'succeeded' ? ':large_green_circle:' : outcome.status === 'failed' ? ':red_circle:' : ':white_circle:'} ${outcome.status}: ${escapeText(outcome.summary)}`
      : decision.decision === 'approved'
        ? '_Executing…_'
        : undefined;
  return {
    text: `${record.title}: ${decision.decision}`,
    blocks: [...approvalBody(record), context(verdict), ...(next ? [section(next)] : [])],
  };
}
