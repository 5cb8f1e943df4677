import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ErrorCode, McpError, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { SystemError, describeError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { VERSION } from '../../shared/version.js';
import { truncateUtf8 } from '../output.js';
import { parseMcpClientConfigs, type McpClientConfig } from './config.js';
import { renderToolResult } from './render.js';

/** What one external tool call returns: text for a reader, cut to the server's output budget. */
export interface McpToolOutput {
  text: string;
  /** True when `text` was cut to `maxOutputBytes`. */
  truncated: boolean;
  /** True when the external tool reported an error (MCP `isError`, or it refused the arguments). */
  isError: boolean;
}

/**
 * A tool of an external MCP server, exposed to investigations. Read-only by configuration: the
 * operator allowed it by name and marked its server `readOnly: true`.
 */
export interface McpInvestigationTool {
  /** `mcp.<server>.<tool>`. */
  readonly name: string;
  /** The same, spelled for model tool names (`[a-zA-Z0-9_-]{1,64}`): `mcp_<server>_<tool>`, cut to 64. */
  readonly safeName: string;
  readonly server: string;
  /** The tool's name on its server. */
  readonly tool: string;
  readonly description: string;
  /** The tool's input JSON Schema, as the server declares it. */
  readonly inputSchema: Record<string, unknown>;
  readonly readOnly: true;
  /**
   * Calls the tool. Resolves `isError: true` when the tool reports an error or rejects its input;
   * rejects with a retryable `SystemError` when the server cannot be reached or times out, and
   * with the abort reason when `signal` aborts.
   */
  call(input: Record<string, unknown>, signal?: AbortSignal): Promise<McpToolOutput>;
}

/** How one configured server fared at start. */
export interface McpServerStatus {
  name: string;
  status: 'connected' | 'failed';
  /** The allowed tools it exposes. */
  tools: string[];
  error?: string;
}

/** The connected external servers. */
export interface McpConnections {
  tools: McpInvestigationTool[];
  servers: McpServerStatus[];
  /** Disconnects every server (ends stdio processes); safe to call twice. */
  close(): Promise<void>;
}

/** MCP error codes that mean the server could not answer, rather than that it refused the call. */
const TRANSPORT_FAILURES: ReadonlySet<number> = new Set([
  ErrorCode.ConnectionClosed,
  ErrorCode.RequestTimeout,
]);

function safeToolName(server: string, tool: string): string {
  return `mcp_${server}_${tool}`.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, 64);
}

function transportFor(config: McpClientConfig, logger: Logger): Transport {
  if (config.url !== undefined) {
    const headers: Record<string, string> = {};
    if (config.token) headers.Authorization = `Bearer ${config.token.reveal()}`;
    return new StreamableHTTPClientTransport(new URL(config.url), { requestInit: { headers } });
  }
  const transport = new StdioClientTransport({
    command: config.command as string,
    args: config.args,
    // Only the SDK's safe defaults (PATH, HOME, …) plus what the config names: nightshift's own
    // secrets never reach an external process.
    env: { ...getDefaultEnvironment(), ...config.env },
    ...(config.cwd !== undefined ? { cwd: config.cwd } : {}),
    stderr: 'pipe',
  });
  let pending = '';
  transport.stderr?.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines)
      if (line.trim()) logger.debug({ line: line.slice(0, 2000) }, 'mcp server stderr');
    if (pending.length > 8192) pending = '';
  });
  return transport;
}

async function listAllTools(client: Client, timeout: number): Promise<Tool[]> {
  const tools: Tool[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 50; page++) {
    const result = await client.listTools(cursor ? { cursor } : {}, { timeout });
    tools.push(...result.tools);
    cursor = result.nextCursor;
    if (!cursor) break;
  }
  return tools;
}

function exposedTools(config: McpClientConfig, offered: readonly Tool[], logger: Logger): Tool[] {
  const byName = new Map(offered.map((tool) => [tool.name, tool]));
  const exposed: Tool[] = [];
  for (const name of config.allow) {
    const tool = byName.get(name);
    if (!tool) {
      logger.warn({ tool: name }, 'an allowed mcp tool is not offered by its server; skipped');
      continue;
    }
    if (tool.annotations?.readOnlyHint === false || tool.annotations?.destructiveHint === true) {
      logger.warn(
        { tool: name, annotations: tool.annotations },
        'an allowed mcp tool declares that it changes things; not exposed despite readOnly: true',
      );
      continue;
    }
    exposed.push(tool);
  }
  return exposed;
}

function wrapTool(client: Client, config: McpClientConfig, tool: Tool): McpInvestigationTool {
  return {
    name: `mcp.${config.name}.${tool.name}`,
    safeName: safeToolName(config.name, tool.name),
    server: config.name,
    tool: tool.name,
    description: tool.description ?? tool.title ?? tool.name,
    inputSchema: tool.inputSchema,
    readOnly: true,
    async call(input, signal) {
      let result: CallToolResult;
      try {
        result = (await client.callTool({ name: tool.name, arguments: input }, undefined, {
          timeout: config.timeoutMs,
          ...(signal ? { signal } : {}),
        })) as CallToolResult;
      } catch (error) {
        if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('aborted');
        if (error instanceof McpError && !TRANSPORT_FAILURES.has(error.code)) {
          const cut = truncateUtf8(`${tool.name} refused the call: ${error.message}`, config.maxOutputBytes);
          return { ...cut, isError: true };
        }
        throw new SystemError(
          'mcp_call_failed',
          `mcp server ${config.name}: ${tool.name}: ${describeError(error)}`,
          {
            cause: error,
            data: { server: config.name, tool: tool.name },
          },
        );
      }
      const cut = truncateUtf8(renderToolResult(result), config.maxOutputBytes);
      return { ...cut, isError: result.isError === true };
    },
  };
}

/**
 * Connects to the configured external MCP servers and exposes their allowed tools as read-only
 * investigation tools named `mcp.<server>.<tool>`.
 *
 * - Every config is validated first: one not marked `readOnly: true` (or otherwise invalid)
 *   makes this throw a `ConfigError` before anything is started.
 * - Only tools named in `allow` are exposed; an allowed tool the server annotates as writing
 *   (`readOnlyHint: false` or `destructiveHint: true`) is still refused.
 * - A server that cannot be reached is logged and reported in `servers` as `failed`, unless it is
 *   `required`: then everything started is closed and this rejects with a `SystemError`.
 */
export async function connectMcpServers(
  configs: readonly unknown[],
  logger: Logger,
): Promise<McpConnections> {
  const parsed = parseMcpClientConfigs(configs);
  const log = logger.child({ component: 'mcp-client' });
  const clients: Client[] = [];
  const close = async (): Promise<void> => {
    const all = clients.splice(0);
    await Promise.all(all.map((client) => client.close().catch(() => undefined)));
  };
  const outcomes = await Promise.all(
    parsed.map(async (config) => {
      const serverLog = log.child({ mcpServer: config.name });
      const client = new Client({ name: 'nightshift', version: VERSION });
      clients.push(client);
      try {
        await client.connect(transportFor(config, serverLog), { timeout: config.connectTimeoutMs });
        const tools = exposedTools(config, await listAllTools(client, config.connectTimeoutMs), serverLog);
        serverLog.info({ tools: tools.map((tool) => tool.name) }, 'connected to mcp server');
        return {
          config,
          status: { name: config.name, status: 'connected', tools: tools.map((t) => t.name) },
          tools,
          client,
        };
      } catch (error) {
        await client.close().catch(() => undefined);
        clients.splice(clients.indexOf(client), 1);
        serverLog.warn({ err: describeError(error) }, 'could not connect to mcp server');
        return {
          config,
          status: { name: config.name, status: 'failed', tools: [], error: describeError(error) },
          tools: [],
          client,
        };
      }
    }),
  );
  const failedRequired = outcomes.find(
    (outcome) => outcome.status.status === 'failed' && outcome.config.required,
  );
  if (failedRequired) {
    await close();
    throw new SystemError(
      'mcp_connect_failed',
      `required mcp server ${failedRequired.config.name} is unavailable: ${failedRequired.status.error ?? ''}`,
    );
  }
  return {
    tools: outcomes.flatMap((outcome) =>
      outcome.tools.map((tool) => wrapTool(outcome.client, outcome.config, tool)),
    ),
    servers: outcomes.map((outcome) => outcome.status as McpServerStatus),
    close,
  };
}
