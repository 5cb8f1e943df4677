import { describe, expect, it } from 'vitest';
import { commitId, repoId, serviceId } from '../../../src/graph/ids.js';
import { commitTags, linkDeploys } from '../../../src/ingest/pollers/git/commit-tags.js';
import { gitPoller, type GitRepoConfig } from '../../../src/ingest/pollers/git/git-poller.js';
import { pollerWorld, pollOnce } from './poller-kit.js';

describe('git poller against the sim repositories', () => {
  it('writes commits, links each deploy to the commit that shipped it, and emits one change per new commit', async () => {
    const world = await pollerWorld();
    try {
      const repos: GitRepoConfig[] = world.sim.world
        .services()
        .filter((service) => service.repo && service.repoPath)
        .map((service) => ({
          name: service.repo ?? '',
          path: service.repoPath ?? '',
          services: [service.name],
        }));
      expect(repos.map((repo) => repo.name)).toContain('shop/checkout');
      const poller = gitPoller({ repos });

      const first = await pollOnce(poller, poller.initialState(), world.context);
      expect(first.signals).toEqual([]);
      const checkoutRepo = repoId('github.com', 'shop/checkout');
      expect((await world.graph.get(checkoutRepo))?.kind).toBe('Repo');
      const history = await world.graph.neighbors(checkoutRepo, {
        kinds: ['PART_OF'],
        direction: 'in',
        entityKinds: ['Commit'],
      });
      expect(history).toHaveLength(3);
      const owners = await world.graph.neighbors(checkoutRepo, { kinds: ['PART_OF'], direction: 'out' });
      expect(owners.map((reached) => reached.entity.id)).toEqual([serviceId('checkout')]);

      await world.at(90);
      expect(world.deploys.map((deploy) => deploy.service)).toEqual(['catalog', 'checkout']);
      const second = await pollOnce(poller, first.nextState, world.context);
      const bySha = new Map(second.signals.map((signal) => [signal.attributes.sha, signal]));
      expect(second.signals).toHaveLength(2);
      for (const deploy of world.deploys) {
        const signal = bySha.get(deploy.sha ?? '');
        expect(signal).toMatchObject({
          source: 'git',
          kind: 'change',
          severity: 'info',
          observedAt: deploy.t,
        });
        expect(signal?.entities.map((ref) => ref.kind)).toEqual(['Repo', 'Commit', 'Service']);
        expect(signal?.attributes.deploys).toHaveLength(1);
        const commit = commitId('github.com', deploy.repo ?? '', deploy.sha ?? '');
        const introduced = await world.graph.neighbors(commit, { kinds: ['INTRODUCED'], direction: 'out' });
        expect(introduced.map((reached) => reached.entity.kind)).toEqual(['Deploy']);
        expect(introduced[0]?.entity.properties.image).toBe(deploy.image);
        expect((await world.graph.get(commit))?.properties).toMatchObject({
          author: deploy.author,
          sha: deploy.sha,
        });
      }
      // The deploy reaches the service through the commit's repository as well as the workload.
      const path = await world.graph.explainPath(
        commitId('github.com', 'shop/checkout', world.deploys[1]?.sha ?? ''),
        serviceId('checkout'),
        { kinds: ['PART_OF'] },
      );
      expect(path).toHaveLength(2);
      expect(second.nextState.repos['shop/checkout']?.head).toBe(world.deploys[1]?.sha);

      const third = await pollOnce(poller, second.nextState, world.context);
      expect(third.signals).toEqual([]);
      expect(third.nextState.repos['shop/checkout']?.pending).toEqual([]);
    } finally {
      await world.close();
    }
  });

  it('links a commit read before its deploy was recorded on a later poll', async () => {
    const world = await pollerWorld({ recordDeploys: false });
    try {
      const checkout = world.sim.world.services().find((service) => service.name === 'checkout');
      const poller = gitPoller({
        repos: [{ name: 'shop/checkout', path: checkout?.repoPath ?? '', services: ['checkout'] }],
      });
      const first = await pollOnce(poller, poller.initialState(), world.context);
      await world.at(90);
      const second = await pollOnce(poller, first.nextState, world.context);
      expect(second.signals).toHaveLength(1);
      expect(second.nextState.repos['shop/checkout']?.pending.map((commit) => commit.sha)).toContain(
        world.deploys[1]?.sha,
      );
      const { recordDeploy } = await import('./poller-kit.js');
      const deploy = world.deploys[1];
      if (!deploy) throw new Error('checkout was not deployed');
      const deployKey = await recordDeploy(world.graph, world.sim.world.clusterName(), deploy);
      const third = await pollOnce(poller, second.nextState, world.context);
      expect(third.signals).toEqual([]);
      const introduced = await world.graph.neighbors(deployKey, { kinds: ['INTRODUCED'], direction: 'in' });
      expect(introduced.map((reached) => reached.entity.id)).toEqual([
        commitId('github.com', 'shop/checkout', deploy.sha ?? ''),
      ]);
      expect(third.nextState.repos['shop/checkout']?.pending.map((commit) => commit.sha)).not.toContain(
        deploy.sha,
      );
    } finally {
      await world.close();
    }
  });
});

describe('commit tags and deploy links', () => {
  it('reads release tags from messages and from values files', () => {
    expect(commitTags('Release v3.1.0', [])).toEqual(['3.1.0']);
    expect(commitTags('Bump', ['  tag: "2.0.1"', 'image: shop/cart:5.1.3-rc.1', 'version = 1.2'])).toEqual([
      '2.0.1',
      '5.1.3-rc.1',
      '1.2',
    ]);
    expect(commitTags('Use latest', ['tag: latest'])).toEqual([]);
    expect(commitTags('fix 3 bugs in 10.0.0.1 handling', [])).toEqual([]);
  });

  it('prefers a sha match, then the newest commit with the tag not newer than the deploy', () => {
    const sha = (char: string) => char.repeat(40);
    const commits = [
      { sha: sha('a'), at: 1_000, tags: ['1.0.0'] },
      { sha: sha('b'), at: 2_000, tags: ['1.0.0'] },
      { sha: sha('c'), at: 9_000_000, tags: ['1.0.0'] },
      { sha: sha('d'), at: 3_000, tags: [] },
    ];
    const deploy = (id: string, extra: object) => ({ id, isEntity: true, service: 's', at: 5_000, ...extra });
    const links = linkDeploys(commits, [
      deploy('by-tag', { tag: 'v1.0.0' }),
      deploy('by-sha', { sha: sha('d') }),
      deploy('by-short-sha-tag', { tag: 'dddddddd' }),
      deploy('by-git-describe', { tag: '1.0.0-12-gdddddddd' }),
      deploy('none', { tag: '9.9.9' }),
    ]);
    expect(Object.fromEntries(links)).toEqual({
      'by-tag': { sha: sha('b'), by: 'tag' },
      'by-sha': { sha: sha('d'), by: 'sha' },
      'by-short-sha-tag': { sha: sha('d'), by: 'sha' },
      'by-git-describe': { sha: sha('d'), by: 'sha' },
    });
  });
});
