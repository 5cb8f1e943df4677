import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { runScenario, type StoryEvent } from '../../src/evals/run-scenario.js';
import { EmbeddedGraphStore } from '../../src/graph/embedded/embedded-store.js';
import { systemClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { patternKey } from '../../src/learn/index.js';
import { scoreScenario } from '../../src/evals/score.js';
import { loadScenario } from '../../src/sim/scenario/load.js';
import { testPrefix } from '../kit/prefix.js';
import { tempDir } from '../kit/tmp.js';

const evalsDir = resolve(import.meta.dirname, '../../evals');
const prefix = testPrefix(import.meta.filename);

describe('a scenario end to end', () => {
  it('bad-deploy-checkout: alert, incident, investigation, approval, rollback, verified, learned', async () => {
    const scenario = loadScenario(join(evalsDir, 'scenarios/bad-deploy-checkout.yaml'), { evalsDir });
    const events: StoryEvent[] = [];
    const dataDir = tempDir();
    const run = await runScenario({
      scenario,
      redisUrl: inject('redisUrl'),
      dataDir,
      prefix: `${prefix}:bad-deploy`,
      speed: 30,
      onEvent: (event) => events.push(event),
    });
    const transitions = events.flatMap((event) => (event.kind === 'transition' ? [event.to] : []));
    expect(run.incidents.length, JSON.stringify(run.observed)).toBeGreaterThan(0);
    expect(transitions).toEqual(
      expect.arrayContaining(['investigating', 'awaiting-approval', 'acting', 'verifying', 'resolved']),
    );
    const score = scoreScenario(scenario, run.observed);
    expect(score.failures).toEqual([]);
    const incident = run.incidents[0];
    // First of its kind and awaiting a human: the on-call is paged; the approval acknowledges the
    // page and it resolves with the incident.
    expect(run.pages).toEqual([
      `trigger ${incident?.id}`,
      `acknowledge ${incident?.id}`,
      `resolve ${incident?.id}`,
    ]);
    expect(incident?.rootCause).toMatchObject({ category: 'deploy_regression' });
    const postmortem = readFileSync(
      join(dataDir, 'daemon/postmortems', `${(incident?.id ?? '').replace(/[^\w.-]+/g, '_')}.md`),
      'utf8',
    );
    expect(postmortem).toContain('## Root cause');
    expect(postmortem).toContain('`k8s.rollback` on `shop/checkout`: executed and verified.');
    const audit = readFileSync(join(dataDir, 'daemon/audit.jsonl'), 'utf8').trim().split('\n');
    expect(audit.filter((line) => line.includes('"type":"executed"'))).toHaveLength(1);
    const graph = await EmbeddedGraphStore.open({
      dataDir: join(dataDir, 'daemon/graph'),
      fsync: 'never',
      logger: silentLogger(),
      clock: systemClock,
    });
    try {
      const stats = await graph.stats();
      // Topology from the Kubernetes watchers, commits from the git poller, the incident and its tree.
      expect(stats.entitiesByKind.Workload ?? 0).toBeGreaterThan(5);
      expect(stats.entitiesByKind.Commit ?? 0).toBeGreaterThan(0);
      expect(stats.entitiesByKind.Hypothesis ?? 0).toBeGreaterThan(0);
      expect((await graph.get(incident?.id ?? ''))?.properties).toMatchObject({
        cause: 'deploy_regression',
        outcome: 'resolved',
      });
      // Learned under the key respond reads the policy's pattern facts from, so autonomy can accrue.
      expect((await graph.get(incident?.id ?? ''))?.properties.patternKey).toBe(
        patternKey({
          category: 'deploy_regression',
          suspectKind: 'Deployment',
          tier: 'critical',
          changeType: 'deploy',
          action: 'k8s.rollback',
        }),
      );
    } finally {
      await graph.close();
    }
    expect(run.observed.actions[0]).toMatchObject({
      action: 'k8s.rollback',
      target: 'checkout',
      mode: 'approval',
      executed: true,
    });
  }, 180_000);
});
