/**
 * The knowledge graph: what other parts of nightshift import. Stores are opened with
 * `openGraphStore` (from `app/`); everything else talks to the `GraphStore` interface.
 */
export * from './ids.js';
export * from './schema.js';
export type * from './store.js';
export {
  DEFAULT_GRAPH_DATA_DIR,
  openGraphStore,
  type GraphConfig,
  type GraphDependencies,
} from './factory.js';
export type { FsyncPolicy } from './embedded/journal.js';
export { jaccard } from './similarity.js';
