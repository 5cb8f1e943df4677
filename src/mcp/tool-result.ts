import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { NightshiftError, ValidationError, describeError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { truncateUtf8 } from './output.js';

/** A successful tool answer: `value` as JSON text, cut to `maxBytes`. */
export function jsonResult(value: unknown, maxBytes: number): CallToolResult {
  const { text } = truncateUtf8(JSON.stringify(value, null, 2), maxBytes);
  return { content: [{ type: 'text', text }] };
}

/** A tool-level error the caller can read and act on (MCP `isError`), not a protocol failure. */
export function errorResult(message: string): CallToolResult {
  return { content: [{ type: 'text', text: message }], isError: true };
}

/**
 * Runs a tool body and turns failures into `isError` answers: bad input and known failures
 * keep their message; anything else is logged and answered with a generic message, so internals
 * never leak to the client.
 */
export async function guarded(
  logger: Logger,
  tool: string,
  body: () => Promise<CallToolResult>,
): Promise<CallToolResult> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof ValidationError) return errorResult(`invalid arguments: ${error.message}`);
    if (error instanceof NightshiftError) {
      logger.warn({ tool, err: describeError(error), code: error.code }, 'mcp tool failed');
      return errorResult(`${tool} failed: ${error.message}${error.retryable ? ' (try again)' : ''}`);
    }
    logger.error({ tool, err: error }, 'mcp tool failed unexpectedly');
    return errorResult(`${tool} failed with an internal error; see the nightshift log`);
  }
}
