import type { IncidentOutcome } from './types.js';

function time(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

function duration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 120) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  return minutes < 120 ? `${minutes} min` : `${(minutes / 60).toFixed(1)} h`;
}

/** Text from logs, Slack or alerts may carry markdown; in the draft it is quoted, never markup. */
function quoted(text: string): string {
  return `\`${text.replace(/`/g, "'").replace(/\s+/g, ' ').slice(0, 500)}\``;
}

/**
 * A postmortem draft in markdown: summary, impact, timeline, root cause, evidence, actions and
 * follow-ups. It is a draft for the team to finish: what nightshift does not know is said so.
 */
export function postmortemDraft(outcome: IncidentOutcome): string {
  const lines: string[] = [];
  const cause = outcome.rootCause;
  const fix = outcome.remediation;
  lines.push(`# Postmortem (draft): ${outcome.title}`, '');
  lines.push(
    `- **Incident**: ${outcome.incidentId}`,
    `- **Severity**: ${outcome.severity}`,
    `- **Opened**: ${time(outcome.openedAt)}; **${outcome.state}**: ${time(outcome.endedAt)} (${duration(outcome.endedAt - outcome.openedAt)})`,
  );
  if (fix?.mitigatedAt !== undefined)
    lines.push(`- **Time to mitigate**: ${duration(fix.mitigatedAt - outcome.openedAt)}`);
  lines.push('', '## Impact', '');
  if (outcome.impacted && outcome.impacted.length > 0)
    lines.push(...outcome.impacted.map((entity) => `- ${entity}`));
  else lines.push('_Not measured: fill in the user-facing impact._');
  lines.push('', '## Root cause', '');
  if (cause)
    lines.push(
      `${cause.statement} (category \`${cause.category}\`, confidence ${Math.round(cause.confidence * 100)} %).`,
    );
  else lines.push('_Not established by the investigation: this needs a human diagnosis._');
  if (outcome.suspect) lines.push('', `Suspect: \`${outcome.suspect.id}\`.`);
  lines.push('', '## Timeline', '', '| time | what | by |', '| --- | --- | --- |');
  for (const entry of outcome.timeline)
    lines.push(
      `| ${time(entry.at)} | ${entry.what.replace(/\|/g, '\\|')} | ${entry.by.replace(/\|/g, '\\|')} |`,
    );
  lines.push('', '## Evidence', '');
  if (outcome.evidence && outcome.evidence.length > 0)
    lines.push(...outcome.evidence.map((line) => `- ${quoted(line)}`));
  else lines.push('_No tool evidence was recorded._');
  lines.push('', '## Actions', '');
  if (fix) {
    const result =
      fix.disposition === 'executed'
        ? fix.mitigated
          ? 'executed and verified'
          : 'executed; verification failed'
        : fix.disposition === 'suggested'
          ? `suggested only (policy: ${fix.mode})${fix.mitigated === undefined ? '' : fix.mitigated ? '; it would have cleared the symptoms' : '; it would not have cleared the symptoms'}`
          : fix.disposition === 'rejected'
            ? 'rejected by a human'
            : 'approval expired; escalated';
    lines.push(`- \`${fix.action}\` on \`${fix.target}\`: ${result}.`);
  } else lines.push('- No action in the catalog fitted; escalated to a human.');
  lines.push('', '## Follow-ups', '');
  const followUps: string[] = [];
  if (!cause) followUps.push('Establish the root cause and record it with the feedback button.');
  if (cause?.category === 'memory_leak') followUps.push('Fix the leak in code; restarts only buy time.');
  if (cause?.category === 'deploy_regression' || cause?.category === 'config_change')
    followUps.push('Add a test or a canary check that would have caught this change before production.');
  if (outcome.state === 'escalated')
    followUps.push('Decide whether a catalog action should cover this case.');
  followUps.push('Review the alerting: did the first alert name the right service?');
  lines.push(...followUps.map((item) => `- [ ] ${item}`), '');
  return lines.join('\n');
}
