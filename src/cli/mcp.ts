import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { graphConfig } from '../app/graph-config.js';
import { loadConfig, secretValues, type Config } from '../config/index.js';
import { openGraphStore } from '../graph/factory.js';
import type { GraphStore } from '../graph/store.js';
import { graphIncidentReader } from '../mcp/graph-incident-reader.js';
import { createMcpServer } from '../mcp/server.js';
import { serveStdio } from '../mcp/stdio.js';
import type { IncidentReader } from '../mcp/types.js';
import { formatProblem, loadPolicies } from '../policy/index.js';
import { systemClock, type Clock } from '../shared/clock.js';
import { ConfigError } from '../shared/errors.js';
import { createLogger, type Logger } from '../shared/logger.js';
import { printConfigError } from './config-command.js';
import type { Command } from './io.js';

/** Usage line of `nightshift mcp`. */
export const MCP_USAGE = 'nightshift mcp [--config FILE] [--policies DIR]';

/** What `mcpCommand` uses instead of the defaults (tests, embedding). */
export interface McpCommandDependencies {
  /** Where JSON-RPC arrives; default `process.stdin`. */
  stdin?: Readable;
  /** Opens the graph; default the configured store (`openGraphStore`). */
  openStore?: (config: Config, logger: Logger) => Promise<GraphStore>;
  /** Reads incidents; default `graphIncidentReader` over the graph. */
  incidents?: (graph: GraphStore) => IncidentReader;
  clock?: Clock;
  logger?: Logger;
}

/**
 * `nightshift mcp [--config FILE] [--policies DIR]`: serves nightshift's MCP tools and resources
 * over stdio for a local client (Claude Desktop, Claude Code). Opens the configured graph and the
 * policy directory (default ./policies), serves until the client closes stdin or the process is
 * signalled, then closes the graph. Logs go to stderr; stdout carries only MCP messages.
 * Exit codes: 0 after a clean stop, 2 for a bad configuration or invalid policies.
 */
export function mcpCommand(dependencies: McpCommandDependencies = {}): Command {
  return async (argv, io) => {
    const { values } = parseArgs({
      args: argv,
      options: { config: { type: 'string' }, policies: { type: 'string' } },
      allowPositionals: false,
    });
    let config: Config;
    try {
      config = loadConfig({ env: io.env, cwd: io.cwd, ...(values.config ? { file: values.config } : {}) });
    } catch (error) {
      if (error instanceof ConfigError) {
        printConfigError(error, io);
        return 2;
      }
      throw error;
    }
    const logger =
      dependencies.logger ??
      createLogger({ level: config.log.level, secrets: () => secretValues(config) }).child({
        component: 'mcp',
      });
    const clock = dependencies.clock ?? systemClock;
    const policiesDir = resolve(io.cwd, values.policies ?? 'policies');
    const policies = await loadPolicies(policiesDir);
    if ('errors' in policies) {
      for (const problem of policies.errors) io.stderr.write(`policy: ${formatProblem(problem)}\n`);
      return 2;
    }
    const graph = await (dependencies.openStore
      ? dependencies.openStore(config, logger)
      : openGraphStore(graphConfig(config), { logger: logger.child({ component: 'graph' }), clock }));
    try {
      const server = createMcpServer({
        graph,
        incidents: (dependencies.incidents ?? graphIncidentReader)(graph),
        policies: () => policies.ok,
        policiesDir,
        publicUrl: `http://${config.server.host}:${config.server.port}`,
        clock,
        logger,
      });
      logger.info({ graph: graph.backend, policies: policiesDir }, 'serving mcp over stdio');
      await serveStdio(server, {
        stdin: dependencies.stdin ?? process.stdin,
        stdout: io.stdout,
        signal: io.signal,
      });
      return 0;
    } finally {
      await graph.close();
    }
  };
}
