import type { Neo4jGraphStore } from '../../src/graph/neo4j/neo4j-store.js';
import { runGraphStoreContract } from './contract.js';
import { neo4jSkipReason, openTestStore, uniqueNamespace } from './neo4j-kit.js';

runGraphStoreContract({
  name: 'neo4j',
  skip: neo4jSkipReason('neo4j-contract.test.ts'),
  open: (clock) => openTestStore(clock, uniqueNamespace('contract')),
  reopen: async (store, clock) => {
    const { namespace } = store as Neo4jGraphStore;
    await store.close();
    return openTestStore(clock, namespace);
  },
  discard: async (store) => {
    await (store as Neo4jGraphStore).clear();
  },
});
