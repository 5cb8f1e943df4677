import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { inProcessDaemon } from '../kit/in-process-daemon.js';
import { makeSignal, podRef } from '../loop/support/loop-world.js';
import { testPrefix } from '../kit/prefix.js';
import { tempDir } from '../kit/tmp.js';

const prefix = testPrefix(import.meta.filename);
const token = 'silences-api-token-0123456789';

/** A daemon whose configuration file has one maintenance window, open for the next hour. */
function daemon() {
  const dir = tempDir();
  const now = Date.now();
  writeFileSync(
    join(dir, 'nightshift.yaml'),
    [
      'loop:',
      '  silences:',
      '    - id: db-upgrade',
      '      kind: maintenance',
      '      matchers: [{ name: entity, value: ".*postgres.*", isRegex: true }]',
      `      startsAt: '${new Date(now - 60_000).toISOString()}'`,
      `      endsAt: '${new Date(now + 3_600_000).toISOString()}'`,
      '      comment: planned upgrade',
      '',
    ].join('\n'),
  );
  return inProcessDaemon({ prefix, dir, env: { NIGHTSHIFT_APPROVALS_API_TOKEN: token } });
}

describe('the silences API', () => {
  it('lists, adds and removes silences for the noise filter, behind a bearer token, refusing bad input', async () => {
    const app = daemon();
    const { url } = await app.start();
    onTestFinished(async () => {
      await app.stop();
    });
    const call = (method: string, path: string, body?: unknown, auth = `Bearer ${token}`) =>
      fetch(`${url}${path}`, {
        method,
        headers: { 'content-type': 'application/json', authorization: auth },
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
    const listed = async () =>
      ((await (await call('GET', '/api/silences')).json()) as { silences: Array<Record<string, unknown>> })
        .silences;

    expect((await call('GET', '/api/silences', undefined, 'Bearer wrong')).status).toBe(401);
    expect((await call('POST', '/api/silences', {}, 'Bearer wrong')).status).toBe(401);
    expect(await listed()).toEqual([
      expect.objectContaining({ id: 'db-upgrade', kind: 'maintenance', source: 'config', active: true }),
    ]);

    const problems = async (body: unknown): Promise<string> => {
      const response = await call('POST', '/api/silences', body);
      expect(response.status).toBe(400);
      return ((await response.json()) as { error: { message: string } }).error.message;
    };
    const shape = await problems({
      kind: 'learned',
      matchers: [],
      endsAt: 'tomorrow',
      createdBy: 'alice',
    });
    for (const field of ['kind:', 'matchers:', 'endsAt:']) expect(shape).toContain(field);
    const regex = await problems({
      matchers: [{ name: 'alertname', value: '(', isRegex: true }],
      startsAt: new Date(Date.now() + 60_000).toISOString(),
      endsAt: new Date(Date.now()).toISOString(),
      createdBy: 'alice',
    });
    for (const field of ['matchers.0.value:', 'endsAt:']) expect(regex).toContain(field);
    expect((await call('POST', '/api/silences', '{not json')).status).toBe(400);
    const taken = await call('POST', '/api/silences', {
      id: 'db-upgrade',
      matchers: [{ name: 'alertname', value: 'X' }],
      endsAt: new Date(Date.now() + 60_000).toISOString(),
      createdBy: 'alice',
    });
    expect(taken.status).toBe(409);

    const added = await call('POST', '/api/silences', {
      matchers: [{ name: 'alertname', value: 'CpuHigh' }],
      endsAt: new Date(Date.now() + 3_600_000).toISOString(),
      createdBy: 'alice',
      comment: 'known, ticket OPS-1',
    });
    expect(added.status).toBe(201);
    const silence = (await added.json()) as {
      id: string;
      createdBy: string;
      source: string;
      active: boolean;
    };
    expect(silence).toMatchObject({ createdBy: 'api:alice', source: 'api', active: true });
    expect((await listed()).map((one) => one.id)).toEqual(['db-upgrade', silence.id]);

    // The noise filter the loop judges with applies both.
    const noise = app.agent()?.pipeline.noise;
    const verdicts = await noise?.judgeAll([
      makeSignal({ fingerprint: 'CpuHigh' }),
      makeSignal({ fingerprint: 'DiskFull', entities: [podRef('postgres-0')] }),
      makeSignal({ fingerprint: 'DiskFull' }),
    ]);
    expect(verdicts?.map((verdict) => (verdict.suppressed ? verdict.reason : 'kept'))).toEqual([
      'silence',
      'maintenance',
      'kept',
    ]);

    expect((await call('DELETE', '/api/silences/db-upgrade')).status).toBe(409);
    expect((await call('DELETE', `/api/silences/${silence.id}`, undefined, 'Bearer wrong')).status).toBe(401);
    expect((await call('DELETE', `/api/silences/${silence.id}`)).status).toBe(204);
    expect((await call('DELETE', `/api/silences/${silence.id}`)).status).toBe(404);
    expect((await listed()).map((one) => one.id)).toEqual(['db-upgrade']);
  }, 60_000);
});
