import type { Clock } from '../shared/clock.js';
import { ConfigError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { Secret } from '../shared/secret.js';
import { EmbeddedGraphStore } from './embedded/embedded-store.js';
import type { FsyncPolicy } from './embedded/journal.js';
import { Neo4jGraphStore } from './neo4j/neo4j-store.js';
import type { GraphStore } from './store.js';

/** Where the embedded store keeps its files when nothing else is configured. */
export const DEFAULT_GRAPH_DATA_DIR = './.nightshift/graph';

/** The `graph` section of the configuration. */
export interface GraphConfig {
  /** `embedded` (default) or `neo4j`. */
  backend: 'embedded' | 'neo4j';
  /** Embedded: the data directory; default `./.nightshift/graph`. */
  dataDir: string;
  /** Embedded: when the journal is fsynced; default `interval`. */
  fsync: FsyncPolicy;
  /** Embedded, `interval` only: ms between fsyncs; default 1000. */
  fsyncIntervalMs?: number;
  /** Embedded: journal size that triggers a snapshot; default 64 MiB. */
  snapshotBytes?: number;
  /** Required when `backend` is `neo4j`. */
  neo4j?: {
    uri: string;
    user?: string;
    password?: Secret;
    database?: string;
    /** Scopes this nightshift's data inside a shared database; default `default`. */
    namespace?: string;
    /** How long a call waits, retrying, for Neo4j; default 60 s. */
    operationTimeoutMs?: number;
  };
}

/** What a store needs from the application. */
export interface GraphDependencies {
  logger: Logger;
  clock: Clock;
}

/**
 * Opens the configured store. Embedded: loads the data directory (rejects with `graph_locked`
 * if another process holds it). Neo4j: returns at once and connects in the background; while
 * Neo4j is unreachable `health()` is `down` and calls wait and retry. A Neo4j that cannot be
 * reached never makes this fall back to the embedded store.
 */
export async function openGraphStore(
  config: GraphConfig,
  dependencies: GraphDependencies,
): Promise<GraphStore> {
  if (config.backend === 'neo4j') {
    if (!config.neo4j?.uri) {
      throw new ConfigError([
        {
          path: 'graph.neo4j.uri',
          message: 'is required when graph.backend is neo4j: set NEO4J_URI, or remove graph.backend=neo4j',
        },
      ]);
    }
    const { uri, user, password, database, namespace, operationTimeoutMs } = config.neo4j;
    return Neo4jGraphStore.open({
      uri,
      ...(user !== undefined ? { user } : {}),
      ...(password !== undefined ? { password } : {}),
      ...(database !== undefined ? { database } : {}),
      ...(namespace !== undefined ? { namespace } : {}),
      ...(operationTimeoutMs !== undefined ? { operationTimeoutMs } : {}),
      logger: dependencies.logger,
      clock: dependencies.clock,
    });
  }
  if (config.backend !== 'embedded') {
    throw new ConfigError([{ path: 'graph.backend', message: 'must be embedded or neo4j' }]);
  }
  return EmbeddedGraphStore.open({
    dataDir: config.dataDir || DEFAULT_GRAPH_DATA_DIR,
    fsync: config.fsync,
    ...(config.fsyncIntervalMs !== undefined ? { fsyncIntervalMs: config.fsyncIntervalMs } : {}),
    ...(config.snapshotBytes !== undefined ? { snapshotBytes: config.snapshotBytes } : {}),
    logger: dependencies.logger,
    clock: dependencies.clock,
  });
}
