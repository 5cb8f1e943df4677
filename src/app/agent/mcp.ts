import { z } from 'zod';
import { RECENT_WINDOW_MS, targetKey, type ActionLog } from '../../act/index.js';
import type { Config } from '../../config/index.js';
import type { GraphStore } from '../../graph/store.js';
import { defineTool, type ReadOnlyTool } from '../../investigate/index.js';
import {
  connectMcpServers,
  type McpConnections,
  type McpInvestigationTool,
} from '../../mcp/client/connect.js';
import { graphIncidentReader } from '../../mcp/graph-incident-reader.js';
import { mcpHttpRoutes } from '../../mcp/http.js';
import { createMcpServer } from '../../mcp/server.js';
import type { PolicySet } from '../../policy/index.js';
import type { RouteInstaller } from '../../server/http.js';
import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/logger.js';

/**
 * An external MCP tool as an investigation tool: same read-only promise (the operator allowed it
 * by name on a server marked read-only), input checked by the server itself, output already cut to
 * the server's byte budget and then to the tool set's.
 */
export function mcpInvestigationTool(tool: McpInvestigationTool): ReadOnlyTool {
  return defineTool({
    name: tool.safeName,
    description: `${tool.description} (external MCP server "${tool.server}", read-only by configuration)`,
    input: z.record(z.string(), z.unknown()),
    inputJsonSchema: tool.inputSchema,
    async run(input, context) {
      const output = await tool.call(input, context.signal);
      if (output.isError) return { status: 'error', summary: output.text.slice(0, 500) };
      return {
        status: output.text.trim() ? 'ok' : 'no_data',
        summary: `${tool.name}: ${output.text.slice(0, 200)}`,
        data: output.text,
        ...(output.truncated ? { truncated: true } : {}),
      };
    },
  });
}

/** Connects the configured external MCP servers; their allowed tools become investigation tools. */
export async function connectExternalTools(
  config: Config,
  logger: Logger,
): Promise<{ tools: ReadOnlyTool[]; connections: McpConnections }> {
  const connections = await connectMcpServers(config.mcp.clients, logger);
  for (const server of connections.servers)
    if (server.status === 'failed')
      logger.warn({ mcpServer: server.name, err: server.error }, 'MCP server not connected');
  return { tools: connections.tools.map(mcpInvestigationTool), connections };
}

/**
 * The MCP endpoint at `/mcp` (when `mcp.server.token` is set): incidents, the graph and policy dry
 * runs for other agents. `propose_action` sees this agent's recent actions from the action log,
 * so its rate limits answer as the executor's would.
 */
export function mcpRoutes(options: {
  config: Config;
  graph: GraphStore;
  policies: () => PolicySet;
  policiesDir: string;
  killSwitch: () => boolean;
  actionLog: ActionLog;
  clock: Clock;
  logger: Logger;
}): RouteInstaller | undefined {
  const { config } = options;
  const token = config.mcp.server.token;
  if (!token) return undefined;
  return mcpHttpRoutes({
    token,
    allowedOrigins: config.mcp.server.allowedOrigins,
    logger: options.logger,
    createServer: () =>
      createMcpServer({
        graph: options.graph,
        incidents: graphIncidentReader(options.graph),
        policies: options.policies,
        policiesDir: options.policiesDir,
        ...(config.server.publicUrl ? { publicUrl: config.server.publicUrl } : {}),
        killSwitch: options.killSwitch,
        maxMode: config.policy.maxMode,
        enrichFacts: async (proposal) => {
          const cluster = proposal.target.cluster ?? config.ingest.cluster;
          const recent = await options.actionLog.recent(
            targetKey({ ...proposal.target, labels: {} }, config.ingest.cluster),
            cluster,
            options.clock.now(),
            RECENT_WINDOW_MS,
          );
          return { recent };
        },
        clock: options.clock,
        logger: options.logger,
      }),
  });
}
