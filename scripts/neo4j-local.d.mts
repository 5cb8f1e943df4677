/** JVM flags the launcher passes to Neo4j (the --add-opens set Neo4j itself ships with). */
export declare const JVM_OPTIONS: readonly string[];
/** True when the Maven project must be (re)built before it can start. */
export declare function needsBuild(): boolean;
/** Builds tools/neo4j-local with Maven when needed; reuses the local Maven cache. */
export declare function ensureBuilt(): void;
export interface StartNeo4jOptions {
  port?: number;
  homeDir?: string;
  log?: (line: string) => void;
  timeoutMs?: number;
  signal?: AbortSignal;
}
/** A running local Neo4j; `stop()` is safe to call twice. */
export interface Neo4jServer {
  uri: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}
/** Starts Neo4j 5.26 with Bolt on loopback; resolves once it accepts connections. */
export declare function startNeo4j(options?: StartNeo4jOptions): Promise<Neo4jServer>;
