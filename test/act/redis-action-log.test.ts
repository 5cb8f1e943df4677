import { describe, expect, it } from 'vitest';
import type { ActionLogEntry } from '../../src/act/action-log.js';
import { actionLogPrefix, redisActionLog } from './redis-kit.js';

const BREAKER = { failures: 3, window: 3_600_000, cooldown: 3_600_000, fallback: 'approval' as const };

function entry(key: string, owner: string): ActionLogEntry {
  return {
    key,
    incidentId: 'inc',
    action: 'k8s.scale',
    target: 't',
    cluster: 'c',
    state: 'executing',
    owner,
    claimedAt: 1,
    updatedAt: 1,
  };
}

describe('RedisActionLog', () => {
  it('lets exactly one of many concurrent claims win, across connections', async () => {
    const prefix = actionLogPrefix(import.meta.filename);
    const logs = [await redisActionLog(prefix), await redisActionLog(prefix)] as const;
    const claims = await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        logs[index % 2 === 0 ? 0 : 1].claim(entry('k1', `owner-${index}`), 60_000),
      ),
    );
    expect(claims.filter((claim) => claim.claimed)).toHaveLength(1);
    const winner = claims.findIndex((claim) => claim.claimed);
    const losers = claims.filter((claim) => !claim.claimed);
    expect(losers.every((claim) => !claim.claimed && claim.existing?.owner === `owner-${winner}`)).toBe(true);
    await logs[1].update('k1', { state: 'succeeded', summary: 'ok' });
    expect(await logs[0].get('k1')).toMatchObject({
      state: 'succeeded',
      summary: 'ok',
      owner: `owner-${winner}`,
    });
    await logs[0].update('missing', { state: 'failed' });
    expect(await logs[0].get('missing')).toBeUndefined();
  });

  it('counts starts per target and cluster and failures within the window', async () => {
    const log = await redisActionLog(actionLogPrefix(import.meta.filename));
    const hour = 3_600_000;
    await log.recordStart('a', 'c1/ns/Deployment/x', 'c1', 1_000);
    await log.recordStart('b', 'c1/ns/Deployment/x', 'c1', 2_000 + hour);
    await log.recordStart('c', 'c1/ns/Deployment/y', 'c1', 3_000 + hour);
    await log.recordStart('d', 'c2/ns/Deployment/x', 'c2', 3_000 + hour);
    await log.reportFailure('b', 2_500 + hour, undefined);
    expect(await log.recent('c1/ns/Deployment/x', 'c1', 4_000 + hour, hour)).toEqual({
      perTarget: 1,
      perCluster: 2,
      failures: 1,
    });
    expect(await log.recent('c1/ns/Deployment/x', 'c1', 500, hour)).toEqual({
      perTarget: 0,
      perCluster: 0,
      failures: 0,
    });
  });

  it('keeps the breaker consistent under concurrent failures from two replicas', async () => {
    const prefix = actionLogPrefix(import.meta.filename);
    const [first, second] = [await redisActionLog(prefix), await redisActionLog(prefix)];
    await Promise.all([
      first.reportFailure('k1', 10_000, BREAKER),
      second.reportFailure('k2', 10_001, BREAKER),
      first.reportFailure('k3', 10_002, BREAKER),
    ]);
    const state = await second.breaker();
    expect(state.openUntil).toBeGreaterThanOrEqual(10_000 + 3_600_000);
    expect(state.failures).toEqual([]);
    await first.resetBreaker();
    expect(await second.breaker()).toEqual({ failures: [] });
  });
});
