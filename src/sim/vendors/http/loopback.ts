import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../../shared/logger.js';
import { silentLogger } from '../../../shared/logger.js';
import type { VendorRequestLog } from '../source.js';

/** Handles one request; a thrown error becomes a 500 JSON reply. */
export type RequestHandler = (request: IncomingMessage, response: ServerResponse) => void | Promise<void>;

/** Where a vendor server listens. */
export interface ListenOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: a free port chosen by the kernel. */
  port?: number;
  logger?: Logger;
  /** The JSON body of the 500 a failing handler answers with; default `{error: 'internal error'}`. */
  errorBody?: unknown;
  /** Runs first on `close()`, e.g. to end long-lived responses such as watches. */
  beforeClose?: () => void;
}

/** A running loopback HTTP server. `close()` is safe to call twice and ends open connections. */
export interface LoopbackServer {
  /** `http://host:port`, without a trailing slash. */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Where a server reports each request once answered: its name and the world's log. */
export interface RequestReporting {
  server: string;
  log: VendorRequestLog | undefined;
}

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function report(reporting: RequestReporting, request: IncomingMessage, response: ServerResponse): void {
  const log = reporting.log;
  if (!log) return;
  response.once('finish', () => {
    const [path = '/', query = ''] = (request.url ?? '/').split('?', 2);
    const method = request.method ?? 'GET';
    const contentType = request.headers['content-type'];
    log.record({
      server: reporting.server,
      method,
      path,
      query,
      ...(contentType ? { contentType } : {}),
      write: WRITE_METHODS.has(method),
      dryRun: false,
      status: response.statusCode,
    });
  });
}

/** Starts an HTTP server on loopback and resolves once it listens. */
export async function listen(
  handler: RequestHandler,
  options: ListenOptions = {},
  reporting?: RequestReporting,
): Promise<LoopbackServer> {
  const host = options.host ?? '127.0.0.1';
  const logger = options.logger ?? silentLogger();
  const server = createServer((request, response) => {
    if (reporting) report(reporting, request, response);
    Promise.resolve()
      .then(() => handler(request, response))
      .catch((error: unknown) => {
        logger.error({ err: error, path: request.url }, 'sim server handler failed');
        if (!response.headersSent) {
          response.writeHead(500, { 'content-type': 'application/json' });
          response.end(JSON.stringify(options.errorBody ?? { error: 'internal error' }));
        } else {
          response.destroy();
        }
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        options.beforeClose?.();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
