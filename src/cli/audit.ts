import { parseArgs } from 'node:util';
import type { AuditQuery, AuditRecord } from '../act/audit.js';
import { parseDuration } from '../shared/clock.js';
import { UsageError, type CliIo, type Command } from './io.js';

const USAGE = 'usage: nightshift audit [--incident ID] [--since 1h|ISO-time] [--json]';

/** Reads audit records; the command closes nothing it did not open, so `close` is optional. */
export interface AuditReader {
  read(query?: AuditQuery): Promise<AuditRecord[]>;
  close?(): Promise<void>;
}

/** `--since`: a duration back from now (`30m`, `1h`, `2d`) or an ISO time. */
function parseSince(text: string, now: number): number | undefined {
  if (/^\d+(?:\.\d+)?(ms|s|m|h|d)$/.test(text.trim())) return now - parseDuration(text);
  if (/^\d{4}-\d{2}-\d{2}/.test(text.trim())) {
    const at = Date.parse(text);
    return Number.isNaN(at) ? undefined : at;
  }
  return undefined;
}

function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows)
    row.forEach((cell, index) => (widths[index] = Math.max(widths[index] ?? 0, cell.length)));
  return rows
    .map((row) =>
      row
        .map((cell, index) => cell.padEnd(widths[index] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function oneLine(text: string, max = 100): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/**
 * `nightshift audit [--incident ID] [--since 1h|ISO] [--json]`: prints the audit records
 * (every decision and action: who, what, why, under which rule), oldest first, as a table or
 * as JSON lines. Exit 0 (also when nothing matches), 2 on bad usage.
 */
export function auditCommand(
  openAudit: (io: CliIo) => Promise<AuditReader>,
  now: () => number = Date.now,
): Command {
  return async (argv, io) => {
    let values: { incident?: string; since?: string; json?: boolean };
    try {
      ({ values } = parseArgs({
        args: argv,
        strict: true,
        allowPositionals: false,
        options: { incident: { type: 'string' }, since: { type: 'string' }, json: { type: 'boolean' } },
      }));
    } catch (error) {
      throw new UsageError(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    }
    const query: AuditQuery = {};
    const problems: string[] = [];
    if (values.incident !== undefined) {
      if (values.incident.trim() === '') problems.push('--incident: give an incident id');
      else query.incidentId = values.incident;
    }
    if (values.since !== undefined) {
      const since = parseSince(values.since, now());
      if (since === undefined)
        problems.push(`--since: "${values.since}" is neither a duration (30m, 1h, 2d) nor an ISO time`);
      else query.since = since;
    }
    if (problems.length > 0) {
      io.stderr.write(`${problems.join('\n')}\n`);
      return 2;
    }
    const reader = await openAudit(io);
    let records: AuditRecord[];
    try {
      records = await reader.read(query);
    } finally {
      await reader.close?.();
    }
    if (values.json) {
      io.stdout.write(records.map((record) => `${JSON.stringify(record)}\n`).join(''));
      return 0;
    }
    if (records.length === 0) {
      io.stdout.write('no audit records match\n');
      return 0;
    }
    const rows = [['time', 'incident', 'event', 'action', 'target', 'mode', 'rule', 'who', 'what']];
    for (const record of records) {
      rows.push([
        record.at,
        record.incidentId,
        record.type,
        record.action,
        record.target,
        record.mode ?? '-',
        record.rule ?? '-',
        record.approvedBy ? `${record.approvedBy} (approver)` : record.actor,
        oneLine(record.message),
      ]);
    }
    io.stdout.write(`${table(rows)}\n${records.length} record${records.length === 1 ? '' : 's'}\n`);
    return 0;
  };
}
