import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { Neo4jGraphStore, type Neo4jGraphStoreOptions } from '../../src/graph/neo4j/neo4j-store.js';
import type { Clock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';

/** The shared test Neo4j, or '' when the run skips it (the reason was printed by the global setup). */
export const neo4jUri = inject('neo4jUri');

/** Why the Neo4j tests of this file skip, printed once per file; undefined when they run. */
export function neo4jSkipReason(file: string): string | undefined {
  if (neo4jUri) return undefined;
  const reason = 'NIGHTSHIFT_SKIP_NEO4J=1: no Neo4j in this run';
  process.stderr.write(`[test] SKIPPED ${file}: ${reason}\n`);
  return reason;
}

/** A namespace no other test file or run uses, so files can share one Neo4j in parallel. */
export function uniqueNamespace(label: string): string {
  return `test-${label}-${randomBytes(6).toString('hex')}`;
}

/** Opens a store on the shared Neo4j and waits until it is ready. */
export async function openTestStore(
  clock: Clock,
  namespace: string,
  extra: Partial<Neo4jGraphStoreOptions> = {},
): Promise<Neo4jGraphStore> {
  const store = await Neo4jGraphStore.open({
    uri: neo4jUri,
    namespace,
    logger: silentLogger(),
    clock,
    operationTimeoutMs: 20_000,
    ...extra,
  });
  await store.ready();
  return store;
}
