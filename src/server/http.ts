import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { requestId } from 'hono/request-id';
import type { AddressInfo } from 'node:net';
import type { Registry, Counter } from 'prom-client';
import type { HealthRegistry } from '../app/health.js';
import type { Logger } from '../shared/logger.js';
import { jsonError } from './errors.js';

export type ServerEnv = { Variables: { requestId: string } };

/** Adds routes to the app; each module of the server contributes one. */
export type RouteInstaller = (app: Hono<ServerEnv>) => void;

export interface HttpOptions {
  bodyLimitBytes: number;
  health: HealthRegistry;
  metrics: { registry: Registry; httpRequests: Counter<'method' | 'route' | 'status'> };
  logger: Logger;
  routes?: readonly RouteInstaller[];
}

/**
 * The HTTP surface: `/healthz` (the process is alive), `/readyz` (every dependency, 503 when a
 * required one is down), `/metrics` (Prometheus), plus installed routes. Every request gets an
 * id (`x-request-id`), bodies over the limit get 413, and every error is JSON.
 */
export function createHttpApp(options: HttpOptions): Hono<ServerEnv> {
  const app = new Hono<ServerEnv>();
  const logger = options.logger.child({ component: 'http' });

  app.use('*', requestId());
  app.use('*', async (context, next) => {
    await next();
    const route = context.req.routePath || 'unmatched';
    options.metrics.httpRequests.inc({
      method: context.req.method,
      route,
      status: String(context.res.status),
    });
  });
  app.use(
    '*',
    bodyLimit({
      maxSize: options.bodyLimitBytes,
      onError: (context) =>
        jsonError(context, 413, 'payload_too_large', `request body exceeds ${options.bodyLimitBytes} bytes`),
    }),
  );

  app.get('/healthz', (context) => context.json({ status: 'ok' }));
  app.get('/readyz', async (context) => {
    const report = await options.health.report();
    return context.json(report, report.status === 'ready' ? 200 : 503);
  });
  app.get('/metrics', async (context) => {
    context.header('content-type', options.metrics.registry.contentType);
    return context.body(await options.metrics.registry.metrics());
  });

  for (const install of options.routes ?? []) install(app);

  app.notFound((context) =>
    jsonError(context, 404, 'not_found', `no route for ${context.req.method} ${context.req.path}`),
  );
  app.onError((error, context) => {
    logger.error(
      { err: error, requestId: context.get('requestId'), path: context.req.path },
      'request failed',
    );
    return jsonError(context, 500, 'internal', 'internal error; see the server log for this request id', {
      requestId: context.get('requestId'),
    });
  });
  return app;
}

export interface RunningServer {
  url: string;
  port: number;
  /** Stops accepting connections and closes idle ones; safe to call twice. */
  close(): Promise<void>;
}

/** Listens on host:port (0 picks a free port); resolves once bound. */
export function listen(app: Hono<ServerEnv>, host: string, port: number): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    let server: ServerType | undefined = undefined;
    const onError = (error: Error): void => reject(error);
    server = serve({ fetch: app.fetch, hostname: host, port }, (info: AddressInfo) => {
      server?.off('error', onError);
      const shownHost = host.includes(':') ? `[${host}]` : host;
      let closing: Promise<void> | undefined;
      resolve({
        url: `http://${shownHost}:${info.port}`,
        port: info.port,
        close: () => {
          closing ??= new Promise<void>((done) => {
            if (!server) return done();
            server.close(() => done());
            if ('closeIdleConnections' in server) server.closeIdleConnections();
          });
          return closing;
        },
      });
    });
    server.once('error', onError);
  });
}
