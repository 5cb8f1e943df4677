import type { TestProject } from 'vitest/node';
import { startNeo4j } from '../../scripts/neo4j-local.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Bolt URI of the Neo4j started for this run; empty when NIGHTSHIFT_SKIP_NEO4J=1. */
    neo4jUri: string;
  }
}

const STDERR_TAIL = 40;

/**
 * Starts one Neo4j 5.26 (scripts/neo4j-local.mjs: Community jars, Java 17, Bolt on loopback) for
 * the whole test run and provides its URI as `neo4jUri`. Test files share it, each in its own
 * graph namespace. `NIGHTSHIFT_TEST_NEO4J_URI` uses a Neo4j already running instead (e.g. one
 * started with `npm run neo4j:local`). `NIGHTSHIFT_SKIP_NEO4J=1` skips it, loudly: the Neo4j
 * tests then skip, saying so.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (process.env.NIGHTSHIFT_SKIP_NEO4J === '1') {
    process.stderr.write(
      '\n' +
        '!!! NIGHTSHIFT_SKIP_NEO4J=1: the Neo4j graph tests are SKIPPED in this run.\n' +
        '!!! The Neo4j store is not being tested. CI must never set this.\n\n',
    );
    project.provide('neo4jUri', '');
    return () => Promise.resolve();
  }
  const existing = process.env.NIGHTSHIFT_TEST_NEO4J_URI;
  if (existing) {
    process.stderr.write(`[test] graph tests use the Neo4j at ${existing} (NIGHTSHIFT_TEST_NEO4J_URI)\n`);
    project.provide('neo4jUri', existing);
    return () => Promise.resolve();
  }
  const tail: string[] = [];
  const started = Date.now();
  let server;
  try {
    server = await startNeo4j({
      port: 0,
      timeoutMs: 180_000,
      log: (line) => {
        tail.push(line);
        if (tail.length > STDERR_TAIL) tail.shift();
      },
    });
  } catch (error) {
    throw new Error(
      `The graph tests need Neo4j and it did not start (${error instanceof Error ? error.message : String(error)}). ` +
        'It needs Java 17+ and Maven (npm run neo4j:local to try by hand); set NIGHTSHIFT_SKIP_NEO4J=1 to skip those tests.',
      { cause: error },
    );
  }
  process.stderr.write(
    `[test] Neo4j for the graph tests at ${server.uri} (started in ${Date.now() - started} ms)\n`,
  );
  project.provide('neo4jUri', server.uri);
  return async () => {
    await server.stop();
  };
}
