import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { Readable, Writable } from 'node:stream';

/**
 * Serves `server` over stdio (newline-delimited JSON-RPC on `stdin`/`stdout`) until the client
 * closes `stdin`, the transport closes or `signal` aborts; then closes the server. Nothing else
 * may write to `stdout` meanwhile: logs go to stderr.
 */
export async function serveStdio(
  server: McpServer,
  streams: { stdin: Readable; stdout: Writable; signal: AbortSignal },
): Promise<void> {
  const { stdin, stdout, signal } = streams;
  const transport = new StdioServerTransport(stdin, stdout);
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const onEnd = (): void => finish();
  stdin.once('end', onEnd);
  stdin.once('close', onEnd);
  signal.addEventListener('abort', onEnd, { once: true });
  server.server.onclose = onEnd;
  try {
    if (!signal.aborted) {
      await server.connect(transport);
      await finished;
    }
  } finally {
    stdin.off('end', onEnd);
    stdin.off('close', onEnd);
    signal.removeEventListener('abort', onEnd);
    await server.close();
  }
}
