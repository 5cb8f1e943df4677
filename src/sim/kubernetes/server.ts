import type { IncomingMessage, ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { silentLogger, type Logger } from '../../shared/logger.js';
import { listen } from '../vendors/http/loopback.js';
import { KubeApiError, badRequest, notFound } from '../world/kube-errors.js';
import type { KubeObject } from '../world/kube-object.js';
import { patchTypeOf } from '../world/patch.js';
import { apiVersionOf, resourceId, type ResourceType } from '../world/resources.js';
import type { World } from '../world/world.js';
import { coreVersions, groupList, resourceList, versionInfo } from './discovery.js';
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from './selectors.js';
import { serveWatch } from './watch.js';

/** How to start the sim's Kubernetes API server. */
export interface KubernetesServerOptions {
  world: World;
  /** The bearer token clients must send. */
  token: string;
  host?: string;
  /** 0 (default): a free port. */
  port?: number;
  logger?: Logger;
  /** Wall ms between watch BOOKMARKs (default 5000). */
  bookmarkIntervalMs?: number;
}

/** A running Kubernetes API server. `close()` ends open watches and is safe to call twice. */
export interface KubernetesServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

interface Route {
  type: ResourceType;
  namespace?: string;
  name?: string;
  subresource?: string;
}

const MAX_BODY = 3 * 1024 * 1024;
const OPEN_PATHS = new Set(['/healthz', '/livez', '/readyz', '/version']);

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}

function sendError(response: ServerResponse, error: KubeApiError): void {
  sendJson(response, error.code, error.toStatus());
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new KubeApiError(413, 'BadRequest', 'the request body is too large'));
        request.destroy();
      } else chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw badRequest(`couldn't decode the request body as JSON: ${(error as Error).message}`);
  }
}

function route(
  world: World,
  segments: string[],
): { route?: Route; discovery?: Record<string, unknown> } | undefined {
  let group = '';
  let version: string | undefined;
  let rest: string[];
  if (segments[0] === 'api') {
    version = segments[1];
    rest = segments.slice(2);
  } else if (segments[0] === 'apis') {
    group = segments[1] ?? '';
    version = segments[2];
    rest = segments.slice(3);
  } else return undefined;
  if (!version) return undefined;
  const types = world.kube.types();
  if (rest.length === 0) {
    const list = resourceList(types, group, version);
    return list ? { discovery: list } : undefined;
  }
  const find = (plural: string | undefined): ResourceType | undefined =>
    plural === undefined
      ? undefined
      : types.find((type) => type.group === group && type.version === version && type.plural === plural);
  const namespaceSubresource = group === '' && ['status', 'finalize'].includes(rest[2] ?? '');
  if (rest[0] === 'namespaces' && rest.length >= 3 && !namespaceSubresource) {
    const type = find(rest[2]);
    if (!type || !type.namespaced) return undefined;
    return {
      route: {
        type,
        namespace: rest[1],
        ...(rest[3] ? { name: rest[3] } : {}),
        ...(rest[4] ? { subresource: rest[4] } : {}),
      },
    };
  }
  const type = find(rest[0]);
  if (!type) return undefined;
  return {
    route: { type, ...(rest[1] ? { name: rest[1] } : {}), ...(rest[2] ? { subresource: rest[2] } : {}) },
  };
}

function listKind(type: ResourceType): string {
  return `${type.kind}List`;
}

/** The query flag `true`/`1` as the API server reads booleans. */
function flag(value: string | null): boolean {
  return value === 'true' || value === '1';
}

function number(value: string | null, field: string): number | undefined {
  if (value === null || value === '') return undefined;
  const parsed = Number(value);
  if (!Number.isFinite(parsed)) throw badRequest(`invalid value for ${field}: ${value}`);
  return parsed;
}

class Handler {
  readonly #world: World;
  readonly #options: KubernetesServerOptions;
  readonly #watches = new Set<() => void>();

  constructor(options: KubernetesServerOptions) {
    this.#world = options.world;
    this.#options = options;
  }

  closeWatches(): void {
    for (const end of this.#watches) end();
  }

  #authorized(request: IncomingMessage): boolean {
    const header = request.headers.authorization ?? '';
    const expected = Buffer.from(`Bearer ${this.#options.token}`);
    const given = Buffer.from(header);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://sim');
    const method = (request.method ?? 'GET').toUpperCase();
    const dryRun = url.searchParams.getAll('dryRun').includes('All');
    const contentType = request.headers['content-type'];
    response.on('finish', () => {
      this.#world.requestLog.record({
        server: 'kubernetes',
        method,
        path: url.pathname,
        query: url.search.slice(1),
        ...(contentType ? { contentType } : {}),
        write: ['POST', 'PUT', 'PATCH', 'DELETE'].includes(method) && !dryRun,
        dryRun,
        status: response.statusCode,
      });
    });
    try {
      if (!OPEN_PATHS.has(url.pathname) && !this.#authorized(request)) {
        sendError(response, new KubeApiError(401, 'Unauthorized', 'Unauthorized'));
        return;
      }
      await this.#dispatch(request, response, url, method, dryRun);
    } catch (error) {
      if (error instanceof KubeApiError) sendError(response, error);
      else {
        this.#options.logger?.error({ err: error, path: url.pathname }, 'kubernetes sim request failed');
        sendError(
          response,
          new KubeApiError(500, 'InternalError', `Internal error occurred: ${(error as Error).message}`),
        );
      }
    }
  }

  async #dispatch(
    request: IncomingMessage,
    response: ServerResponse,
    url: URL,
    method: string,
    dryRun: boolean,
  ): Promise<void> {
    const path = url.pathname.replace(/\/+$/, '') || '/';
    if (['/healthz', '/livez', '/readyz'].includes(path)) {
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.end('ok');
      return;
    }
    if (path === '/version') return sendJson(response, 200, versionInfo());
    if (path === '/api') return sendJson(response, 200, coreVersions(request.headers.host ?? ''));
    if (path === '/apis') return sendJson(response, 200, groupList(this.#world.kube.types()));
    const segments = path.split('/').filter(Boolean).map(decodeURIComponent);
    const matched = route(this.#world, segments);
    if (!matched) throw new KubeApiError(404, 'NotFound', 'the server could not find the requested resource');
    if (matched.discovery) return sendJson(response, 200, matched.discovery);
    const target = matched.route;
    if (!target) throw new KubeApiError(404, 'NotFound', 'the server could not find the requested resource');
    const id = resourceId(target.type);
    const options = { dryRun, via: 'kubernetes' };

    if (!target.name) {
      if (method === 'GET') return this.#list(request, response, url, target);
      if (method === 'POST') {
        const body = parseJson(await readBody(request));
        return sendJson(
          response,
          dryRun ? 200 : 201,
          this.#world.kube.create(id, target.namespace, body, options),
        );
      }
      throw new KubeApiError(
        405,
        'MethodNotAllowed',
        `the server does not allow this method on the requested resource`,
      );
    }
    if (target.subresource === 'log') {
      if (id !== '/pods' || method !== 'GET')
        throw new KubeApiError(
          405,
          'MethodNotAllowed',
          'the server does not allow this method on the requested resource',
        );
      const text = this.#world.kube.podLog(target.namespace ?? 'default', target.name, {
        ...(url.searchParams.get('container') ? { container: url.searchParams.get('container') ?? '' } : {}),
        previous: flag(url.searchParams.get('previous')),
        ...(url.searchParams.has('tailLines')
          ? { tailLines: number(url.searchParams.get('tailLines'), 'tailLines') }
          : {}),
        ...(url.searchParams.has('sinceSeconds')
          ? { sinceSeconds: number(url.searchParams.get('sinceSeconds'), 'sinceSeconds') }
          : {}),
        ...(url.searchParams.has('limitBytes')
          ? { limitBytes: number(url.searchParams.get('limitBytes'), 'limitBytes') }
          : {}),
        timestamps: flag(url.searchParams.get('timestamps')),
      });
      response.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(text) });
      response.end(text);
      return;
    }
    if (target.subresource === 'scale') {
      if (!target.type.subresources?.includes('scale'))
        throw notFound(target.type.group, `${target.type.plural}/scale`, target.name);
      if (method === 'GET')
        return sendJson(response, 200, this.#world.kube.getScale(id, target.namespace, target.name));
      const body = parseJson(await readBody(request));
      if (method === 'PATCH') {
        const type = this.#patchType(request);
        return sendJson(
          response,
          200,
          this.#world.kube.patchScale(id, target.namespace, target.name, body, type, options),
        );
      }
      if (method === 'PUT')
        return sendJson(
          response,
          200,
          this.#world.kube.replaceScale(id, target.namespace, target.name, body, options),
        );
      throw new KubeApiError(
        405,
        'MethodNotAllowed',
        'the server does not allow this method on the requested resource',
      );
    }
    if (target.subresource && target.subresource !== 'status') {
      throw new KubeApiError(404, 'NotFound', 'the server could not find the requested resource');
    }
    switch (method) {
      case 'GET':
        return sendJson(response, 200, this.#world.kube.get(id, target.namespace, target.name));
      case 'PATCH': {
        const type = this.#patchType(request);
        const body = parseJson(await readBody(request));
        return sendJson(
          response,
          200,
          this.#world.kube.patch(id, target.namespace, target.name, body, type, options),
        );
      }
      case 'PUT': {
        const body = parseJson(await readBody(request));
        return sendJson(
          response,
          200,
          this.#world.kube.replace(id, target.namespace, target.name, body, options),
        );
      }
      case 'DELETE':
        return sendJson(response, 200, this.#world.kube.delete(id, target.namespace, target.name, options));
      default:
        throw new KubeApiError(
          405,
          'MethodNotAllowed',
          'the server does not allow this method on the requested resource',
        );
    }
  }

  #patchType(request: IncomingMessage): NonNullable<ReturnType<typeof patchTypeOf>> {
    const type = patchTypeOf(request.headers['content-type']);
    if (!type) {
      throw new KubeApiError(
        415,
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json`,
      );
    }
    return type;
  }

  #list(request: IncomingMessage, response: ServerResponse, url: URL, target: Route): void {
    const labels = parseLabelSelector(url.searchParams.get('labelSelector'));
    const fields = parseFieldSelector(url.searchParams.get('fieldSelector'));
    const matches = (object: KubeObject): boolean =>
      matchesLabels(object.metadata.labels, labels) && matchesFields(object, fields);
    const id = resourceId(target.type);
    const apiVersion = apiVersionOf(target.type);
    if (flag(url.searchParams.get('watch'))) {
      const version = number(url.searchParams.get('resourceVersion'), 'resourceVersion');
      const timeoutSeconds = number(url.searchParams.get('timeoutSeconds'), 'timeoutSeconds');
      const end = serveWatch(
        this.#world.cluster.store,
        {
          resource: id,
          kind: target.type.kind,
          apiVersion,
          ...(target.namespace ? { namespace: target.namespace } : {}),
          ...(version !== undefined ? { resourceVersion: version } : {}),
          allowBookmarks: flag(url.searchParams.get('allowWatchBookmarks')),
          sendInitialEvents: flag(url.searchParams.get('sendInitialEvents')),
          ...(timeoutSeconds !== undefined ? { timeoutMs: timeoutSeconds * 1000 } : {}),
          bookmarkIntervalMs: this.#options.bookmarkIntervalMs ?? 5_000,
          matches,
        },
        response,
      );
      this.#watches.add(end);
      response.on('close', () => this.#watches.delete(end));
      return;
    }
    const all = this.#world.kube.list(id, target.namespace).filter(matches);
    const limit = number(url.searchParams.get('limit'), 'limit');
    const token = url.searchParams.get('continue');
    let offset = 0;
    if (token) {
      const decoded = Number(Buffer.from(token, 'base64url').toString('utf8'));
      if (!Number.isInteger(decoded) || decoded < 0)
        throw new KubeApiError(400, 'BadRequest', 'continue key is not valid');
      offset = decoded;
    }
    const items = limit && limit > 0 ? all.slice(offset, offset + limit) : all.slice(offset);
    const next = offset + items.length;
    const metadata: Record<string, unknown> = {
      resourceVersion: String(this.#world.cluster.store.resourceVersion()),
    };
    if (limit && next < all.length) {
      metadata.continue = Buffer.from(String(next)).toString('base64url');
      metadata.remainingItemCount = all.length - next;
    }
    sendJson(response, 200, { kind: listKind(target.type), apiVersion, metadata, items });
  }
}

/** Starts the Kubernetes API server of a world on loopback. */
export async function startKubernetesServer(options: KubernetesServerOptions): Promise<KubernetesServer> {
  const logger = options.logger ?? silentLogger();
  const handler = new Handler({ ...options, logger });
  return listen((request, response) => handler.handle(request, response), {
    ...(options.host ? { host: options.host } : {}),
    ...(options.port !== undefined ? { port: options.port } : {}),
    logger,
    errorBody: { kind: 'Status', status: 'Failure', code: 500, reason: 'InternalError' },
    beforeClose: () => handler.closeWatches(),
  });
}
