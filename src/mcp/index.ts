/**
 * nightshift over the Model Context Protocol: a server that exposes incidents, the knowledge
 * graph and policy dry runs to MCP clients (stdio and Streamable HTTP), and a client that turns
 * allowed tools of external MCP servers into read-only investigation tools.
 */
export { createMcpServer, MCP_TOOL_NAMES } from './server.js';
export { graphIncidentReader } from './graph-incident-reader.js';
export { mcpHttpRoutes, DEFAULT_MCP_PATH, type McpHttpOptions } from './http.js';
export { serveStdio } from './stdio.js';
export { defaultApprovalLink } from './propose-action.js';
export { incidentReportUri, policyUri } from './resources.js';
export { hypothesisTree, type HypothesisTreeNode } from './incident-tools.js';
export { truncateUtf8, DEFAULT_MAX_OUTPUT_BYTES } from './output.js';
export {
  connectMcpServers,
  type McpConnections,
  type McpInvestigationTool,
  type McpServerStatus,
  type McpToolOutput,
} from './client/connect.js';
export {
  mcpClientConfigSchema,
  parseMcpClientConfigs,
  type McpClientConfig,
  type McpClientConfigInput,
} from './client/config.js';
export type * from './types.js';
