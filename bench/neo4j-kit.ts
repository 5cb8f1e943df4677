/** What the benches that can run on Neo4j share: a store on a given server or on one started for the run. */
import { startNeo4j, type Neo4jServer } from '../scripts/neo4j-local.mjs';
import { Neo4jGraphStore } from '../src/graph/neo4j/neo4j-store.js';
import type { Clock } from '../src/shared/clock.js';
import { silentLogger } from '../src/shared/logger.js';

/**
 * A Neo4j graph store in `namespace`, ready: at `uri`, or on a local server started by
 * scripts/neo4j-local.mjs when none is given (`server`, for the caller to stop).
 */
export async function openBenchNeo4j(options: {
  uri: string | undefined;
  namespace: string;
  clock: Clock;
  operationTimeoutMs?: number;
}): Promise<{ store: Neo4jGraphStore; uri: string; server?: Neo4jServer }> {
  let server: Neo4jServer | undefined;
  let uri = options.uri;
  if (!uri) {
    process.stderr.write('starting a local Neo4j (scripts/neo4j-local.mjs)…\n');
    server = await startNeo4j({ port: 0, timeoutMs: 180_000 });
    uri = server.uri;
  }
  const store = await Neo4jGraphStore.open({
    uri,
    namespace: options.namespace,
    logger: silentLogger(),
    clock: options.clock,
    ...(options.operationTimeoutMs === undefined ? {} : { operationTimeoutMs: options.operationTimeoutMs }),
  });
  await store.ready();
  return { store, uri, ...(server ? { server } : {}) };
}
