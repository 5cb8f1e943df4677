import type { IncomingMessage, ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { ValidationError } from '../shared/errors.js';
import { silentLogger, type Logger } from '../shared/logger.js';
import { listen } from './vendors/http/loopback.js';
import type { SimFlagValue, SimWorld } from './world/types.js';

/** How to start the flag provider. */
export interface FlagsServerOptions {
  world: Pick<SimWorld, 'flags' | 'requestLog'>;
  /** When set, requests must send `Authorization: Bearer <token>`. */
  token?: string;
  host?: string;
  port?: number;
  logger?: Logger;
}

/** A running flag provider. `close()` is safe to call twice. */
export interface FlagsServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

function send(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= 64 * 1024) chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function isFlagValue(value: unknown): value is SimFlagValue {
  return typeof value === 'boolean' || typeof value === 'string' || typeof value === 'number';
}

/**
 * A small feature-flag provider over the world's flags:
 *
 * - `GET /flags` → `{flags: [{key, value, service, updatedAt}]}`
 * - `GET /flags/{key}` → the flag, 404 when unknown
 * - `PUT /flags/{key}` with JSON `{"value": …, "actor"?: "…"}` → the updated flag; 400 when
 *   the value is missing or of another type than the flag's; recorded as a `flags.set` action
 * - `POST /ofrep/v1/evaluate/flags/{key}` → an OpenFeature remote evaluation
 *   `{key, value, reason: "STATIC", variant}`
 *
 * Every request is recorded in the world's request log as server `flags`.
 */
export async function startFlagsServer(options: FlagsServerOptions): Promise<FlagsServer> {
  const { world } = options;
  const logger = options.logger ?? silentLogger();
  const authorized = (request: IncomingMessage): boolean => {
    if (!options.token) return true;
    const expected = Buffer.from(`Bearer ${options.token}`);
    const given = Buffer.from(request.headers.authorization ?? '');
    return given.length === expected.length && timingSafeEqual(given, expected);
  };
  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? '/', 'http://flags');
    const method = (request.method ?? 'GET').toUpperCase();
    response.on('finish', () => {
      world.requestLog.record({
        server: 'flags',
        method,
        path: url.pathname,
        query: url.search.slice(1),
        ...(request.headers['content-type'] ? { contentType: request.headers['content-type'] } : {}),
        write:
          method === 'PUT' ||
          method === 'PATCH' ||
          method === 'DELETE' ||
          (method === 'POST' && !url.pathname.startsWith('/ofrep/')),
        dryRun: false,
        status: response.statusCode,
      });
    });
    if (!authorized(request)) return send(response, 401, { error: 'unauthorized' });
    if (url.pathname === '/healthz') return send(response, 200, { ok: true });
    if (url.pathname === '/flags' && method === 'GET')
      return send(response, 200, { flags: world.flags.list() });
    const evaluate = /^\/ofrep\/v1\/evaluate\/flags\/([^/]+)$/.exec(url.pathname);
    if (evaluate && method === 'POST') {
      const key = decodeURIComponent(evaluate[1] ?? '');
      const flag = world.flags.get(key);
      if (!flag)
        return send(response, 404, {
          key,
          errorCode: 'FLAG_NOT_FOUND',
          errorDetails: `flag "${key}" not found`,
        });
      return send(response, 200, { key, value: flag.value, reason: 'STATIC', variant: String(flag.value) });
    }
    const match = /^\/flags\/([^/]+)$/.exec(url.pathname);
    if (!match) return send(response, 404, { error: 'not found' });
    const key = decodeURIComponent(match[1] ?? '');
    if (method === 'GET') {
      const flag = world.flags.get(key);
      return flag ? send(response, 200, flag) : send(response, 404, { error: `flag "${key}" not found` });
    }
    if (method !== 'PUT') return send(response, 405, { error: 'use GET or PUT' });
    if (!world.flags.get(key)) return send(response, 404, { error: `flag "${key}" not found` });
    let body: unknown;
    try {
      body = JSON.parse(await readBody(request)) as unknown;
    } catch {
      return send(response, 400, { error: 'the body must be JSON: {"value": …}' });
    }
    const value = (body as { value?: unknown } | null)?.value;
    const actor = (body as { actor?: unknown } | null)?.actor;
    if (!isFlagValue(value))
      return send(response, 400, { error: 'the body needs "value": a boolean, string or number' });
    try {
      return send(
        response,
        200,
        world.flags.set(key, value, { actor: typeof actor === 'string' ? actor : 'api', via: 'flags' }),
      );
    } catch (error) {
      if (error instanceof ValidationError)
        return send(response, 400, { error: error.issues.map((issue) => issue.message).join('; ') });
      throw error;
    }
  };
  return listen(handle, {
    ...(options.host ? { host: options.host } : {}),
    ...(options.port !== undefined ? { port: options.port } : {}),
    logger,
  });
}
