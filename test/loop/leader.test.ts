import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { acceptFencedWrite, startLeaderElection } from '../../src/loop/leader.js';
import { silentLogger } from '../../src/shared/logger.js';
import { waitFor } from '../kit/daemon.js';
import { testPrefix } from '../kit/prefix.js';
import { startPrivateRedis } from '../kit/redis-setup.js';

const prefix = testPrefix(import.meta.filename);
const children: ChildProcess[] = [];

function contender(owner: string, ttlMs: number): { child: ChildProcess; lines: string[] } {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/fixtures/leader-process.ts', inject('redisUrl'), prefix, owner, String(ttlMs)],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  children.push(child);
  const lines: string[] = [];
  child.stderr?.on('data', (chunk: Buffer) => lines.push(...chunk.toString().trim().split('\n')));
  return { child, lines };
}

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  }
});

describe('leader election across processes', () => {
  it('elects exactly one leader, fails over when it dies, and fences the old term', async () => {
    const first = contender('a', 600);
    const second = contender('b', 600);
    await waitFor(() => [...first.lines, ...second.lines].some((line) => line.startsWith('elected')), 15_000);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const leaders = [first, second].filter((one) => one.lines.some((line) => line.startsWith('elected')));
    expect(leaders).toHaveLength(1);
    const [leader] = leaders;
    const follower = leader === first ? second : first;
    const oldToken = Number(leader?.lines.find((line) => line.startsWith('elected'))?.split(' ')[1]);

    leader?.child.kill('SIGKILL');
    const killedAt = Date.now();
    await waitFor(() => follower.lines.some((line) => line.startsWith('elected')), 5_000, 50);
    // the lease (600 ms) plus one follower round; generous for a loaded 2-core machine
    expect(Date.now() - killedAt).toBeLessThan(2_500);
    const newToken = Number(follower.lines.find((line) => line.startsWith('elected'))?.split(' ')[1]);
    expect(newToken).toBeGreaterThan(oldToken);

    const redis = new Redis(inject('redisUrl'));
    try {
      expect(await acceptFencedWrite(redis, prefix, 'graph', newToken)).toBe(true);
      expect(await acceptFencedWrite(redis, prefix, 'graph', oldToken)).toBe(false);
      expect(await acceptFencedWrite(redis, prefix, 'graph', newToken)).toBe(true);
    } finally {
      redis.disconnect();
    }
  });

  it('hands over at once when the leader stops cleanly', async () => {
    const first = contender('c', 5_000);
    await waitFor(() => first.lines.some((line) => line.startsWith('elected')), 15_000);
    const second = contender('d', 5_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(second.lines).toEqual([]);
    first.child.kill('SIGTERM');
    await waitFor(() => first.lines.includes('deposed'), 5_000);
    await waitFor(() => second.lines.some((line) => line.startsWith('elected')), 4_000, 50);
  });

  it('deposes itself before its lease ends when Redis stops answering, even with a call left hanging', async () => {
    const server = await startPrivateRedis();
    const redis = new Redis(server.url, { maxRetriesPerRequest: null });
    const events: string[] = [];
    const election = startLeaderElection({
      connection: redis,
      name: 'stall',
      prefix,
      owner: 'stalled',
      ttlMs: 900,
      logger: silentLogger(),
      onElected: (token) => void events.push(`elected ${token}`),
      onDeposed: () => void events.push('deposed'),
    });
    try {
      await waitFor(() => events.length > 0, 5_000, 20);
      expect(events).toEqual(['elected 1']);
      // The server stops answering but keeps the connection: the next renewal hangs, unanswered.
      server.process.kill('SIGSTOP');
      const stalledAt = Date.now();
      await waitFor(() => events.includes('deposed'), 3_000, 20);
      // Within 0.8 of the lease after the last renewal, so before the lease (900 ms) can end.
      expect(Date.now() - stalledAt).toBeLessThan(900);
      expect(election.isLeader()).toBe(false);
      expect(election.token()).toBeUndefined();
    } finally {
      server.process.kill('SIGCONT');
      await election.stop();
      redis.disconnect();
      server.process.kill('SIGKILL');
    }
  });
});
