import { join } from 'node:path';
import type { Config } from '../config/index.js';
import type { GraphConfig } from '../graph/factory.js';

/** The graph store settings of a validated config: the embedded store lives in `<dataDir>/graph`. */
export function graphConfig(config: Config): GraphConfig {
  const { neo4j } = config.graph;
  return {
    backend: config.graph.backend,
    dataDir: join(config.dataDir, 'graph'),
    fsync: config.graph.fsync,
    ...(neo4j.uri
      ? {
          neo4j: {
            uri: neo4j.uri,
            user: neo4j.user,
            ...(neo4j.password ? { password: neo4j.password } : {}),
            ...(neo4j.database ? { database: neo4j.database } : {}),
            namespace: neo4j.namespace,
          },
        }
      : {}),
  };
}
