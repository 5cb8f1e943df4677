import { randomBytes } from 'node:crypto';
import { Neo4jGraphStore } from '../graph/neo4j/neo4j-store.js';
import { systemClock } from '../shared/clock.js';
import { silentLogger } from '../shared/logger.js';

/** Where a scenario run keeps its graph. */
export type ScenarioGraphOptions = { backend: 'embedded' } | { backend: 'neo4j'; uri: string };

/** A run's graph: the daemon's environment for it, and what empties it after the run. */
export interface ScenarioGraph {
  env: Record<string, string>;
  /** The Neo4j namespace of the run; absent for the embedded graph. */
  namespace?: string;
  /** Deletes what the run left in its namespace; nothing to do for the embedded graph. */
  dispose(): Promise<void>;
}

/**
 * The graph of one scenario run, which must start empty as an estate seen for the first time:
 * the embedded graph lives in the run's own data directory; on Neo4j each run gets a namespace of
 * its own, so incidents, patterns and entities of earlier runs on the same database are not in
 * its picture, and the namespace is emptied once the run is over.
 */
export function scenarioGraph(options: ScenarioGraphOptions | undefined): ScenarioGraph {
  if (options?.backend !== 'neo4j')
    return { env: { NIGHTSHIFT_GRAPH_FSYNC: 'never' }, dispose: () => Promise.resolve() };
  const { uri } = options;
  const namespace = `eval-${randomBytes(6).toString('hex')}`;
  return {
    env: { NIGHTSHIFT_GRAPH_BACKEND: 'neo4j', NEO4J_URI: uri, NEO4J_NAMESPACE: namespace },
    namespace,
    async dispose() {
      const store = await Neo4jGraphStore.open({
        uri,
        namespace,
        logger: silentLogger(),
        clock: systemClock,
      });
      try {
        await store.clear();
      } finally {
        await store.close();
      }
    },
  };
}
