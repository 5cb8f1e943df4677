import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { MemoryAuditLog } from '../act/audit.js';
import { auditCommand } from './audit.js';
import { UsageError, type CliIo } from './io.js';

function io(): CliIo & { out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  return {
    stdout,
    stderr,
    env: {},
    cwd: '/',
    signal: new AbortController().signal,
    out: () => out,
    err: () => err,
  };
}

const NOW = Date.UTC(2026, 2, 3, 12);

async function seeded(): Promise<MemoryAuditLog> {
  let now = NOW - 3 * 3_600_000;
  const log = new MemoryAuditLog(() => now);
  const base = {
    key: 'act_1',
    action: 'k8s.rollback',
    target: 'Deployment shop/checkout',
    actor: 'nightshift/a',
  };
  await log.append({
    ...base,
    type: 'decision',
    incidentId: 'inc-old',
    mode: 'approval',
    rule: 'prod-rollback-needs-approval',
    message: 'policy: approval',
  });
  now = NOW - 30 * 60_000;
  await log.append({
    ...base,
    type: 'decision',
    incidentId: 'inc-new',
    mode: 'autonomous',
    message: 'policy: autonomous',
  });
  await log.append({
    ...base,
    type: 'executed',
    incidentId: 'inc-new',
    mode: 'approval',
    approvedBy: 'U024BE7LH',
    actor: 'U024BE7LH',
    message: 'rolled back\nto revision 1',
  });
  return log;
}

describe('nightshift audit', () => {
  it('prints a table of who did what, why and under which rule', async () => {
    const log = await seeded();
    const streams = io();
    expect(
      await auditCommand(
        () => Promise.resolve(log),
        () => NOW,
      )([], streams),
    ).toBe(0);
    const out = streams.out();
    expect(out).toContain('prod-rollback-needs-approval');
    expect(out).toContain('U024BE7LH (approver)');
    expect(out).toContain('rolled back to revision 1');
    expect(out.trim().split('\n').at(-1)).toBe('3 records');
  });

  it('filters by incident and --since (duration or ISO), and prints JSON lines with --json', async () => {
    const log = await seeded();
    const command = auditCommand(
      () => Promise.resolve(log),
      () => NOW,
    );
    const byIncident = io();
    await command(['--incident', 'inc-old', '--json'], byIncident);
    expect(
      byIncident
        .out()
        .trim()
        .split('\n')
        .map((line) => (JSON.parse(line) as { incidentId: string }).incidentId),
    ).toEqual(['inc-old']);
    const recent = io();
    await command(['--since', '1h', '--json'], recent);
    expect(recent.out().trim().split('\n')).toHaveLength(2);
    const iso = io();
    await command(['--since', new Date(NOW - 4 * 3_600_000).toISOString(), '--json'], iso);
    expect(iso.out().trim().split('\n')).toHaveLength(3);
    const none = io();
    await command(['--incident', 'nope'], none);
    expect(none.out()).toBe('no audit records match\n');
  });

  it('exits 2 with one line per bad value, and throws UsageError for unknown options', async () => {
    const log = await seeded();
    const command = auditCommand(
      () => Promise.resolve(log),
      () => NOW,
    );
    const streams = io();
    expect(await command(['--since', 'yesterday', '--incident', ''], streams)).toBe(2);
    expect(streams.err().trim().split('\n')).toHaveLength(2);
    await expect(command(['--verbose'], io())).rejects.toBeInstanceOf(UsageError);
  });
});
