import { describe, expect, it } from 'vitest';
import type { ApprovalRecord } from '../../src/integrations/slack/approval-store.js';
import { parseKillSwitchCommand } from '../../src/integrations/slack/kill-switch-command.js';
import {
  approvalDecidedMessage,
  approvalRequestMessage,
  escapeText,
  mention,
} from '../../src/integrations/slack/messages.js';
import { findApprovalRequests } from '../../src/sim/vendors/slack/approval-buttons.js';

const RECORD: ApprovalRecord = {
  v: 1,
  id: 'apr_1',
  incidentId: 'inc_1',
  title: 'Restart <!here> payments',
  plan: 'rollout restart deployments/payments',
  confidence: 0.9,
  approvers: ['U0ALICE', 'S0ONCALL', 'not-an-id'],
  requestedAt: Date.UTC(2026, 0, 1),
  expiresAt: Date.UTC(2026, 0, 1, 0, 15),
};

describe('Slack message building', () => {
  it('escapes text so data cannot mention, link or ping', () => {
    expect(escapeText('a <!channel> & <@U1|x> > b')).toBe('a &lt;!channel&gt; &amp; &lt;@U1|x&gt; &gt; b');
    expect(mention('U0ALICE')).toBe('<@U0ALICE>');
    expect(mention('S0ONCALL')).toBe('<!subteam^S0ONCALL>');
    expect(mention('<!everyone>')).toBe('&lt;!everyone&gt;');
  });

  it('puts Approve and Reject buttons carrying the approval id, and removes them once decided', () => {
    const request = approvalRequestMessage(RECORD);
    const [found, ...others] = findApprovalRequests(request.blocks as never);
    expect(others).toEqual([]);
    expect(found?.approvalId).toBe('apr_1');
    expect(found?.approve).toMatchObject({ actionId: 'approve', value: 'apr_1' });
    expect(found?.reject).toMatchObject({ actionId: 'reject', value: 'apr_1' });
    const shown = JSON.stringify(request.blocks);
    expect(shown).toContain('Restart &lt;!here&gt; payments');
    expect(shown).toContain('<@U0ALICE>, <!subteam^S0ONCALL>, not-an-id');
    expect(shown).toContain('90%');
    const decided = approvalDecidedMessage(RECORD, {
      decision: 'rejected',
      by: 'api:carol',
      via: 'api',
      at: RECORD.requestedAt + 1000,
    });
    expect(findApprovalRequests(decided.blocks as never)).toEqual([]);
    expect(JSON.stringify(decided.blocks)).toContain('Rejected by carol (API)');
  });
});

describe('the /nightshift command text', () => {
  it.each([
    ['pause', { action: 'pause' }],
    ['  PAUSE  db migration  ', { action: 'pause', reason: 'db migration' }],
    ['resume', { action: 'resume' }],
    ['', { action: 'usage' }],
    ['help', { action: 'usage' }],
    ['stop now', { action: 'usage', problem: 'unknown subcommand "stop"' }],
  ])('%j parses as %j', (text, expected) => {
    expect(parseKillSwitchCommand(text)).toEqual(expected);
  });
});
