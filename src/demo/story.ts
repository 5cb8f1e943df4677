import type { StoryEvent } from '../evals/run-scenario.js';

const BAR = 20;

function bar(confidence: number): string {
  const filled = Math.max(0, Math.min(BAR, Math.round(confidence * BAR)));
  return `${'█'.repeat(filled)}${'░'.repeat(BAR - filled)}`;
}

function oneLine(text: string, max = 110): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

const STATE_LINES: Record<string, string> = {
  investigating: '🔎 investigating: hypotheses tested with read-only tools',
  'awaiting-approval': '✋ policy asks a human: approval requested in Slack',
  acting: '🛠  acting',
  verifying: '🩺 verifying: re-checking the symptoms',
  resolved: '✅ resolved',
  escalated: '📟 escalated to a human (PagerDuty)',
};

/**
 * Renders the story of a run as lines of text, one event at a time: what a person watching the
 * demo reads. Text from the estate (alert summaries, log lines) is shown as data on one line.
 */
export function storyLines(event: StoryEvent, elapsedMs: number): string[] {
  const at = `[${(elapsedMs / 1000).toFixed(1).padStart(5)}s]`;
  switch (event.kind) {
    case 'ready':
      return [`${at} the simulated estate and the daemon are up; the scenario's clock is running`];
    case 'incident':
      return [
        `${at} 🚨 incident opened: ${oneLine(event.incident.title)} (severity ${event.incident.severity})`,
      ];
    case 'transition': {
      const headline = STATE_LINES[event.to] ?? event.to;
      const lines = [`${at} ${headline}`];
      if (event.to !== 'investigating') lines.push(`         ${oneLine(event.reason)}  (by ${event.by})`);
      return lines;
    }
    case 'note':
      return event.what === 'signal-attached' ? [] : [`${at} 📝 ${event.what}: ${oneLine(event.reason)}`];
    case 'investigation': {
      const lines = [
        `${at} 🧠 investigation: ${event.journal.toolCalls} tool calls by the ${event.journal.planner} planner`,
      ];
      for (const cause of event.journal.causes.slice(0, 4))
        lines.push(
          `         ${bar(cause.confidence)} ${String(Math.round(cause.confidence * 100)).padStart(3)}%  ${cause.category.padEnd(20)} ${oneLine(cause.statement, 70)}`,
        );
      if (event.journal.fallbackReason)
        lines.push(`         (Claude fell back to rules: ${event.journal.fallbackReason})`);
      return lines;
    }
    case 'learned':
      return [
        `${at} 📚 lesson stored: pattern ${event.patternKey}${event.cause ? `, cause ${event.cause}` : ''}${event.fix ? `, fix ${event.fix}` : ''}`,
      ];
    case 'done': {
      const observed = event.observed;
      return [
        `${at} story over: ${observed.incidents} incident(s), ${observed.mitigated ? 'the fault is mitigated' : 'the fault is NOT mitigated'}${observed.escalated ? ', escalated' : ''}`,
      ];
    }
  }
}
