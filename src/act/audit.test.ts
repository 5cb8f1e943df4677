import { appendFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EmbeddedGraphStore } from '../graph/embedded/embedded-store.js';
import { actionId, incidentId } from '../graph/ids.js';
import { ManualClock } from '../shared/clock.js';
import { silentLogger } from '../shared/logger.js';
import { tempDir } from '../../test/kit/tmp.js';
import { graphAuditMirror } from './audit-graph.js';
import { auditFileReader, openAuditFile, readAuditFile, type AuditInput } from './audit.js';

function input(overrides: Partial<AuditInput> = {}): AuditInput {
  return {
    type: 'decision',
    incidentId: 'inc-1',
    key: 'act_1',
    action: 'k8s.scale',
    target: 'Deployment shop/catalog',
    ref: { kind: 'Deployment', name: 'catalog', namespace: 'shop', cluster: 'prod-eu1' },
    actor: 'nightshift/test',
    mode: 'autonomous',
    rule: 'prod-earned-scale-up',
    reasons: ['bounded scale-up'],
    message: 'policy: autonomous',
    ...overrides,
  };
}

describe('the audit file', () => {
  it('appends one JSON line per record, in order, and reads them back filtered', async () => {
    const path = join(tempDir(), 'nested', 'audit.jsonl');
    let now = Date.UTC(2026, 2, 3, 10);
    const log = openAuditFile({ path, now: () => now });
    await Promise.all([
      log.append(input()),
      log.append(input({ type: 'execute-intent', message: 'executing' })),
      log.append(input({ type: 'executed', message: 'done' })),
    ]);
    now += 3_600_000;
    await log.append(input({ incidentId: 'inc-2', type: 'shadow', message: 'would have done: x' }));
    const lines = (await readFile(path, 'utf8')).trim().split('\n');
    expect(lines.map((line) => (JSON.parse(line) as { type: string }).type)).toEqual([
      'decision',
      'execute-intent',
      'executed',
      'shadow',
    ]);
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({
      v: 1,
      at: '2026-03-03T10:00:00.000Z',
      rule: 'prod-earned-scale-up',
    });
    expect((await log.read({ incidentId: 'inc-2' })).map((record) => record.type)).toEqual(['shadow']);
    expect(await log.read({ since: Date.UTC(2026, 2, 3, 10, 30) })).toHaveLength(1);
    await log.close();
    await expect(log.append(input())).rejects.toThrow('closed');
  });

  it('survives a torn last line: readers skip it, and later appends stay readable', async () => {
    const path = join(tempDir(), 'audit.jsonl');
    const log = openAuditFile({ path });
    await log.append(input());
    await log.close();
    await appendFile(path, '{"v":1,"id":"aud_torn","at":"2026-');
    const reopened = openAuditFile({ path });
    await reopened.append(input({ type: 'executed', message: 'after the crash' }));
    await reopened.close();
    const { records, skipped } = await readAuditFile(path);
    expect(records.map((record) => record.type)).toEqual(['decision', 'executed']);
    expect(skipped).toBe(1);
    expect(
      (await auditFileReader(path).read({ incidentId: 'inc-1' })).map((record) => record.message),
    ).toEqual(['policy: autonomous', 'after the crash']);
  });

  it('a missing file reads as empty; a failing mirror does not fail the append', async () => {
    expect(await readAuditFile(join(tempDir(), 'none.jsonl'))).toEqual({ records: [], skipped: 0 });
    const path = join(tempDir(), 'audit.jsonl');
    const log = openAuditFile({
      path,
      mirror: () => Promise.reject(new Error('graph down')),
      logger: silentLogger(),
    });
    await expect(log.append(input())).resolves.toMatchObject({ type: 'decision' });
    await log.close();
  });
});

describe('the graph mirror', () => {
  it('writes the Action entity, an action-taken event on the target, and RESOLVED_BY once verified', async () => {
    const clock = new ManualClock(Date.UTC(2026, 2, 3, 10));
    const store = await EmbeddedGraphStore.open({
      dataDir: tempDir(),
      fsync: 'never',
      logger: silentLogger(),
      clock,
    });
    try {
      await store.upsertEntities([{ id: incidentId('inc-1'), kind: 'Incident', source: 'test' }]);
      const path = join(tempDir(), 'audit.jsonl');
      const log = openAuditFile({ path, now: () => clock.now(), mirror: graphAuditMirror(store) });
      await log.append(input());
      expect(await store.get(actionId('act_1'))).toBeNull();
      await log.append(input({ type: 'execute-intent', message: 'executing' }));
      await log.append(input({ type: 'executed', message: 'scaled catalog from 2 to 4' }));
      await log.append(input({ type: 'verified', message: 'verified' }));
      await log.close();
      const action = await store.get(actionId('act_1'));
      expect(action).toMatchObject({
        kind: 'Action',
        properties: {
          state: 'verified',
          rule: 'prod-earned-scale-up',
          incident: 'inc-1',
          mode: 'autonomous',
        },
      });
      const events = await store.events('k8s:prod-eu1/shop/Deployment/catalog');
      expect(events).toMatchObject([{ kind: 'action-taken', summary: 'scaled catalog from 2 to 4' }]);
      const resolved = await store.neighbors(incidentId('inc-1'), {
        kinds: ['RESOLVED_BY'],
        direction: 'out',
      });
      expect(resolved.map((reached) => reached.entity.id)).toEqual([actionId('act_1')]);
    } finally {
      await store.close();
    }
  });
});
