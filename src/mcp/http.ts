import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { bearerCheck } from '../server/bearer.js';
import { jsonError } from '../server/errors.js';
import type { RouteInstaller } from '../server/http.js';
import { ConfigError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { Secret } from '../shared/secret.js';

/** Where the MCP endpoint is mounted unless configured otherwise. */
export const DEFAULT_MCP_PATH = '/mcp';

/** Settings of the Streamable HTTP endpoint. */
export interface McpHttpOptions {
  /** The bearer token every request must carry (`Authorization: Bearer <token>`). Required. */
  token: Secret;
  /** Builds a fresh server per request (the endpoint is stateless), e.g. `() => createMcpServer(deps)`. */
  createServer: () => McpServer;
  /** Default `/mcp`. */
  path?: string;
  /**
   * Browser origins allowed to call the endpoint. A request with an `Origin` header not listed
   * gets 403 (DNS rebinding protection); requests without one (CLI clients) are unaffected.
   */
  allowedOrigins?: readonly string[];
  logger: Logger;
}

/**
 * Mounts MCP over Streamable HTTP, stateless: each POST gets its own server and transport and
 * is answered with JSON (no sessions, no server-initiated streams), so any replica can serve
 * any request. GET and DELETE answer 405. Without a valid bearer token every method answers
 * 401 with the server's JSON error shape. Throws `ConfigError` at once when the token is empty.
 */
export function mcpHttpRoutes(options: McpHttpOptions): RouteInstaller {
  const token = options.token.reveal();
  if (token.length < 16) {
    throw new ConfigError([
      {
        path: 'mcp.server.token',
        message: 'must be at least 16 characters; set NIGHTSHIFT_MCP_TOKEN (e.g. openssl rand -hex 32)',
      },
    ]);
  }
  const path = options.path ?? DEFAULT_MCP_PATH;
  const logger = options.logger.child({ component: 'mcp-http' });
  const allowedOrigins = new Set(options.allowedOrigins ?? []);

  const authorized = bearerCheck(options.token);

  return (app) => {
    app.all(path, async (context) => {
      if (!authorized(context.req.header('authorization'))) {
        context.header('WWW-Authenticate', 'Bearer realm="nightshift-mcp"');
        return jsonError(context, 401, 'unauthorized', 'a valid bearer token is required for /mcp');
      }
      const origin = context.req.header('origin');
      if (origin !== undefined && !allowedOrigins.has(origin)) {
        return jsonError(context, 403, 'forbidden_origin', `origin ${origin} may not call this endpoint`);
      }
      if (context.req.method !== 'POST') {
        context.header('Allow', 'POST');
        return jsonError(
          context,
          405,
          'method_not_allowed',
          'this MCP endpoint is stateless: send JSON-RPC with POST; there is no stream to GET or session to DELETE',
        );
      }
      const server = options.createServer();
      const transport = new WebStandardStreamableHTTPServerTransport({
        sessionIdGenerator: undefined,
        enableJsonResponse: true,
      });
      try {
        await server.connect(transport);
        return await transport.handleRequest(context.req.raw);
      } finally {
        // JSON mode: the response body is complete by now, so the pair can go.
        server
          .close()
          .catch((error: unknown) => logger.warn({ err: error }, 'closing an mcp request failed'));
      }
    });
  };
}
