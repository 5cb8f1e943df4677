import { afterAll, describe, expect, it } from 'vitest';
import { graphConfig } from '../../src/app/graph-config.js';
import { loadConfig } from '../../src/config/index.js';
import { scenarioGraph } from '../../src/evals/scenario-graph.js';
import { openGraphStore } from '../../src/graph/factory.js';
import type { Neo4jGraphStore } from '../../src/graph/neo4j/neo4j-store.js';
import type { GraphStore } from '../../src/graph/store.js';
import { systemClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { neo4jSkipReason, neo4jUri, openTestStore, uniqueNamespace } from '../graph/neo4j-kit.js';
import { tempDir } from '../kit/tmp.js';

const skip = neo4jSkipReason('scenario-graph.test.ts');

/** The graph the daemon opens from a run's environment, as `runScenario` builds it. */
async function daemonGraph(env: Record<string, string>): Promise<GraphStore> {
  const config = loadConfig({ env, cwd: tempDir() });
  return openGraphStore(graphConfig(config), { logger: silentLogger(), clock: systemClock });
}

describe("a scenario run's graph", () => {
  it('is embedded in the run’s own data directory unless the run asks for Neo4j', async () => {
    const graph = scenarioGraph(undefined);
    expect(graph.env).toEqual({ NIGHTSHIFT_GRAPH_FSYNC: 'never' });
    expect(graph.namespace).toBeUndefined();
    await expect(graph.dispose()).resolves.toBeUndefined();
  });

  describe.skipIf(skip !== undefined)('on Neo4j', () => {
    const others: Neo4jGraphStore[] = [];
    afterAll(async () => {
      for (const store of others) {
        await store.clear();
        await store.close();
      }
    });

    it('starts empty in a namespace of its own, whatever earlier runs left, and is emptied after', async () => {
      // What an earlier run (or another installation) left in the same database.
      const earlier = await openTestStore(systemClock, uniqueNamespace('earlier-run'));
      others.push(earlier);
      await earlier.upsertEntities([{ id: 'service:checkout', kind: 'Service', source: 'earlier' }]);

      const first = scenarioGraph({ backend: 'neo4j', uri: neo4jUri });
      const second = scenarioGraph({ backend: 'neo4j', uri: neo4jUri });
      expect(first.namespace).toMatch(/^eval-[0-9a-f]{12}$/);
      expect(second.namespace).not.toBe(first.namespace);

      const daemon = await daemonGraph(first.env);
      try {
        expect((daemon as Neo4jGraphStore).namespace).toBe(first.namespace);
        expect(await daemon.get('service:checkout')).toBeNull();
        await daemon.upsertEntities([{ id: 'service:cart', kind: 'Service', source: 'run' }]);
        expect(await daemon.get('service:cart')).not.toBeNull();
      } finally {
        await daemon.close();
      }

      await first.dispose();
      const after = await daemonGraph(first.env);
      try {
        expect((await after.stats()).entities).toBe(0);
      } finally {
        await after.close();
      }
      expect(await earlier.get('service:checkout')).not.toBeNull();
      await second.dispose();
    });
  });
});
