import { z } from 'zod';
import { ConfigError, type Issue } from '../../shared/errors.js';
import { Secret } from '../../shared/secret.js';

/** Default wall time of one call to an external tool. */
export const DEFAULT_CLIENT_TIMEOUT_MS = 20_000;
/** Default wall time to connect to an external server and list its tools. */
export const DEFAULT_CLIENT_CONNECT_TIMEOUT_MS = 30_000;
/** Default budget of one external tool answer, in UTF-8 bytes. */
export const DEFAULT_CLIENT_MAX_OUTPUT_BYTES = 16 * 1024;

const secretSchema = z.union([
  z.instanceof(Secret),
  z
    .string()
    .min(1, 'must not be empty')
    .transform((value) => new Secret(value)),
]);

/**
 * One external MCP server whose tools investigations may use (`mcp.clients[]` in the config):
 * either a local `command` (stdio) or a `url` (Streamable HTTP, with an optional bearer
 * `token`). Only tools named in `allow` are exposed, and the operator must state
 * `readOnly: true`: nightshift's investigations hold read-only tools only.
 */
export const mcpClientConfigSchema = z.strictObject({
  name: z
    .string()
    .regex(
      /^[a-z0-9][a-z0-9_-]{0,31}$/,
      'use 1–32 lower-case letters, digits, _ or -, starting with a letter or digit',
    ),
  command: z.string().min(1).optional(),
  args: z.array(z.string()).default([]),
  /** Extra environment for the command; the process otherwise gets only PATH, HOME and the like. */
  env: z.record(z.string(), z.string()).default({}),
  cwd: z.string().min(1).optional(),
  url: z
    .url()
    .refine((value) => /^https?:\/\//.test(value), 'must be an http:// or https:// URL')
    .optional(),
  token: secretSchema.optional(),
  allow: z.array(z.string().min(1)).min(1, 'name at least one tool to allow'),
  readOnly: z.boolean().optional(),
  /** Wall time of one tool call. */
  timeoutMs: z.number().int().min(100).max(600_000).default(DEFAULT_CLIENT_TIMEOUT_MS),
  /** Wall time to start (a stdio process), initialize and list tools at start. */
  connectTimeoutMs: z.number().int().min(100).max(600_000).default(DEFAULT_CLIENT_CONNECT_TIMEOUT_MS),
  maxOutputBytes: z.number().int().min(256).max(1_048_576).default(DEFAULT_CLIENT_MAX_OUTPUT_BYTES),
  /** When true, failing to connect at start fails the start; otherwise the server is skipped and logged. */
  required: z.boolean().default(false),
});

/** One external server, as written in the config. */
export type McpClientConfigInput = z.input<typeof mcpClientConfigSchema>;
/** One external server, validated, with defaults. */
export type McpClientConfig = z.output<typeof mcpClientConfigSchema> & { readOnly: true };

/**
 * Validates every configured server; throws one `ConfigError` listing every problem, with paths
 * under `path` (default `mcp.clients`). Refuses a server not marked `readOnly: true`, one with
 * both or neither of `command` and `url`, a `token` on a stdio server, and repeated names.
 */
export function parseMcpClientConfigs(configs: readonly unknown[], path = 'mcp.clients'): McpClientConfig[] {
  const issues: Issue[] = [];
  const parsed: McpClientConfig[] = [];
  const names = new Set<string>();
  configs.forEach((raw, index) => {
    const at = `${path}[${index}]`;
    const result = mcpClientConfigSchema.safeParse(raw);
    if (!result.success) {
      for (const issue of result.error.issues) {
        const field = issue.path.map((part) => String(part)).join('.');
        issues.push({ path: field ? `${at}.${field}` : at, message: issue.message });
      }
      return;
    }
    const config = result.data;
    const before = issues.length;
    if (config.readOnly !== true) {
      issues.push({
        path: `${at}.readOnly`,
        message:
          `must be true: investigations may use read-only tools only; set readOnly: true once every tool in ` +
          `allow (${config.allow.join(', ')}) is known to change nothing, or remove server "${config.name}"`,
      });
    }
    if ((config.command === undefined) === (config.url === undefined)) {
      issues.push({
        path: at,
        message: 'set exactly one of command (a local stdio server) or url (Streamable HTTP)',
      });
    }
    if (config.command !== undefined && config.token !== undefined) {
      issues.push({
        path: `${at}.token`,
        message: 'is for url servers; pass a stdio server its secrets in env',
      });
    }
    if (names.has(config.name))
      issues.push({ path: `${at}.name`, message: `"${config.name}" is used twice` });
    names.add(config.name);
    if (issues.length === before) parsed.push(config as McpClientConfig);
  });
  if (issues.length > 0) throw new ConfigError(issues);
  return parsed;
}
