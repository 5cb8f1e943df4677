import { int, type Driver } from 'neo4j-driver';
import { SystemError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';

/** One schema step; each statement must be safe to run again (`IF NOT EXISTS`). */
export interface Migration {
  version: number;
  name: string;
  statements: readonly string[];
}

/**
 * The Neo4j schema, in order. Applied versions are recorded as `(:NightshiftMigration {version})`
 * nodes; a start applies the missing ones. Never edit an applied migration: add a new one.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'keys and lookups',
    statements: [
      'CREATE CONSTRAINT nightshift_migration_version IF NOT EXISTS FOR (m:NightshiftMigration) REQUIRE m.version IS UNIQUE',
      'CREATE CONSTRAINT nightshift_entity_key IF NOT EXISTS FOR (n:Entity) REQUIRE (n.ns, n.id) IS UNIQUE',
      'CREATE INDEX nightshift_entity_kind IF NOT EXISTS FOR (n:Entity) ON (n.ns, n.kind)',
      'CREATE CONSTRAINT nightshift_event_key IF NOT EXISTS FOR (e:Event) REQUIRE (e.ns, e.id) IS UNIQUE',
      'CREATE INDEX nightshift_event_subject IF NOT EXISTS FOR (e:Event) ON (e.ns, e.subject, e.at)',
    ],
  },
  {
    version: 2,
    name: 'expiry by last seen',
    statements: [
      'CREATE INDEX nightshift_entity_last_seen IF NOT EXISTS FOR (n:Entity) ON (n.ns, n.kind, n.lastSeen)',
    ],
  },
];

/** The newest schema version this code knows. */
export const NEO4J_SCHEMA_VERSION = Math.max(...MIGRATIONS.map((migration) => migration.version));

/**
 * Brings the database schema up to `NEO4J_SCHEMA_VERSION`. Idempotent and safe to run from
 * several processes at once (every statement is `IF NOT EXISTS`, the record is a MERGE). Refuses
 * a database whose schema is newer than this code. Returns the versions it applied.
 */
export async function migrate(
  driver: Driver,
  database: string | undefined,
  logger: Logger,
): Promise<number[]> {
  const session = driver.session({ database, defaultAccessMode: 'WRITE' });
  try {
    // From the leader, like every query of the store: a follower may not have the latest yet.
    const current = await session.executeWrite(async (tx) => {
      const result = await tx.run('MATCH (m:NightshiftMigration) RETURN m.version AS version');
      return new Set(result.records.map((record) => Number(record.get('version'))));
    });
    const newest = Math.max(0, ...current);
    if (newest > NEO4J_SCHEMA_VERSION) {
      throw new SystemError(
        'graph_schema_too_new',
        `the Neo4j graph schema is at v${newest}, newer than this nightshift knows (v${NEO4J_SCHEMA_VERSION}); upgrade nightshift`,
        { retryable: false },
      );
    }
    const applied: number[] = [];
    for (const migration of MIGRATIONS) {
      if (current.has(migration.version)) continue;
      for (const statement of migration.statements) {
        // Schema statements cannot share a transaction with data writes; each runs on its own.
        await session.executeWrite((tx) => tx.run(statement));
      }
      await session.executeWrite((tx) =>
        tx.run(
          'MERGE (m:NightshiftMigration {version: $version}) ON CREATE SET m.name = $name, m.appliedAt = datetime()',
          { version: int(migration.version), name: migration.name },
        ),
      );
      logger.info(
        { version: int(migration.version), name: migration.name },
        'graph schema migration applied',
      );
      applied.push(migration.version);
    }
    return applied;
  } finally {
    await session.close();
  }
}
