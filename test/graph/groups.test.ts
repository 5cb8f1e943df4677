import { describe, expect, it } from 'vitest';
import { ReadGroups } from '../../src/graph/read-groups.js';
import { WriteGroups } from '../../src/graph/write-groups.js';

/** A store that records its commits; `bad` items make a commit fail, `down` makes it unavailable. */
function recorder(options: { maxWeight?: number } = {}) {
  const commits: string[][] = [];
  const fail = (items: readonly string[]): void => {
    if (items.includes('down')) throw Object.assign(new Error('unavailable'), { unavailable: true });
    const bad = items.find((item) => item.startsWith('bad'));
    if (bad) throw new Error(`refused ${bad}`);
  };
  const groups = new WriteGroups<string>({
    together: async (items) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      fail(items);
      commits.push([...items]);
    },
    alone: async (item) => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      fail([item]);
      commits.push([item]);
    },
    isUnavailable: (error) => (error as { unavailable?: boolean }).unavailable === true,
    weight: (item) => item.length,
    maxWeight: options.maxWeight ?? 1_000,
  });
  return { groups, commits };
}

describe('group commit', () => {
  it('commits a lone write alone and the writes made meanwhile together, in order', async () => {
    const { groups, commits } = recorder();
    const first = groups.submit('a');
    const rest = ['b', 'c', 'd'].map((item) => groups.submit(item));
    await Promise.all([first, ...rest]);
    expect(commits).toEqual([['a'], ['b', 'c', 'd']]);
    expect(groups.counts).toEqual({ commits: 2, writes: 4 });
    // Later writes start a new group.
    await groups.submit('e');
    expect(commits.at(-1)).toEqual(['e']);
  });

  it('keeps a group within its weight, yet takes a single heavier write', async () => {
    const { groups, commits } = recorder({ maxWeight: 4 });
    await Promise.all(['a', 'bb', 'cc', 'd', 'eeeeee', 'f'].map((item) => groups.submit(item)));
    expect(commits).toEqual([['a'], ['bb', 'cc'], ['d'], ['eeeeee'], ['f']]);
  });

  it('retries a refused group write by write, so only the bad one fails, with its own error', async () => {
    const { groups, commits } = recorder();
    const results = await Promise.allSettled(['a', 'b', 'bad-c', 'd'].map((item) => groups.submit(item)));
    expect(results.map((result) => result.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
    ]);
    expect(String((results[2] as PromiseRejectedResult).reason)).toContain('refused bad-c');
    expect(commits).toEqual([['a'], ['b'], ['d']]);
  });

  it('fails a whole group at once when the store is unavailable, without retrying each', async () => {
    const { groups, commits } = recorder();
    const results = await Promise.allSettled(['a', 'b', 'down', 'c'].map((item) => groups.submit(item)));
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'rejected']);
    expect(commits).toEqual([['a']]);
    expect(groups.counts).toEqual({ commits: 2, writes: 4 });
  });
});

describe('grouped reads', () => {
  it('answers reads made while one runs together, each with its own result, at most maxItems at once', async () => {
    const queries: string[][] = [];
    const reads = new ReadGroups<string, string>({
      read: async (items) => {
        queries.push([...items]);
        await new Promise((resolve) => setTimeout(resolve, 5));
        if (items.includes('down')) throw new Error('unavailable');
        return items.map((item) => item.toUpperCase());
      },
      maxItems: 2,
    });
    const answers = await Promise.allSettled(
      ['a', 'b', 'c', 'd', 'down', 'e'].map((item) => reads.load(item)),
    );
    expect(queries).toEqual([['a'], ['b', 'c'], ['d', 'down'], ['e']]);
    expect(answers.map((answer) => (answer.status === 'fulfilled' ? answer.value : 'failed'))).toEqual([
      'A',
      'B',
      'C',
      'failed',
      'failed',
      'E',
    ]);
    expect(reads.counts).toEqual({ queries: 4, reads: 6 });
  });

  it('keeps a group within its weight, yet reads a single heavier one alone', async () => {
    const queries: string[][] = [];
    const reads = new ReadGroups<string, number>({
      read: async (items) => {
        queries.push([...items]);
        await new Promise((resolve) => setTimeout(resolve, 5));
        return items.map((item) => item.length);
      },
      maxItems: 10,
      weight: (item) => item.length,
      maxWeight: 4,
    });
    const answers = await Promise.all(['a', 'bb', 'cc', 'd', 'eeeeee', 'f'].map((item) => reads.load(item)));
    expect(queries).toEqual([['a'], ['bb', 'cc'], ['d'], ['eeeeee'], ['f']]);
    expect(answers).toEqual([1, 2, 2, 1, 6, 1]);
  });
});
