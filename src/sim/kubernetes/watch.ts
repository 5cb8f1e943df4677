import type { ServerResponse } from 'node:http';
import type { KubeObject } from '../world/kube-object.js';
import { KubeApiError } from '../world/kube-errors.js';
import type { ObjectStore, StoreChange } from '../world/store.js';

/** What a watch request asks for. */
export interface WatchRequest {
  resource: string;
  kind: string;
  apiVersion: string;
  namespace?: string;
  /** The resourceVersion to start after; undefined or 0 = send the current objects first. */
  resourceVersion?: number;
  allowBookmarks: boolean;
  sendInitialEvents: boolean;
  timeoutMs?: number;
  bookmarkIntervalMs: number;
  matches(object: KubeObject): boolean;
}

/**
 * Streams a watch as the API server does: one `{"type","object"}` JSON object per line,
 * ADDED for the current objects (no resourceVersion, or 0) or the changes since the given
 * one, then live changes, BOOKMARKs when allowed, an ERROR 410 when the version is too old.
 * Returns a function that ends the watch.
 */
export function serveWatch(store: ObjectStore, request: WatchRequest, response: ServerResponse): () => void {
  response.writeHead(200, {
    'content-type': 'application/json',
    'transfer-encoding': 'chunked',
    'cache-control': 'no-cache, private',
  });
  response.flushHeaders();
  const write = (type: string, object: unknown): void => {
    if (!response.writableEnded) response.write(`${JSON.stringify({ type, object })}\n`);
  };
  const bookmark = (annotations?: Record<string, string>): void =>
    write('BOOKMARK', {
      kind: request.kind,
      apiVersion: request.apiVersion,
      metadata: { resourceVersion: String(store.resourceVersion()), ...(annotations ? { annotations } : {}) },
    });
  const inScope = (object: KubeObject): boolean =>
    (request.namespace === undefined || object.metadata.namespace === request.namespace) &&
    request.matches(object);
  const send = (change: StoreChange): void => {
    if (change.resource === request.resource && inScope(change.object)) write(change.type, change.object);
  };

  let ended = false;
  let bookmarkTimer: NodeJS.Timeout | undefined;
  let timeoutTimer: NodeJS.Timeout | undefined;
  const unsubscribe = store.subscribe(send);
  const end = (): void => {
    if (ended) return;
    ended = true;
    unsubscribe();
    clearTimeout(bookmarkTimer);
    clearTimeout(timeoutTimer);
    if (!response.writableEnded) response.end();
  };
  response.on('close', end);

  if (request.resourceVersion === undefined || request.resourceVersion === 0) {
    for (const object of store.list(request.resource, request.namespace))
      if (request.matches(object)) write('ADDED', object);
    if (request.allowBookmarks && request.sendInitialEvents)
      bookmark({ 'k8s.io/initial-events-end': 'true' });
  } else {
    const changes = store.changesSince(request.resource, request.resourceVersion);
    if (!changes) {
      const error = new KubeApiError(
        410,
        'Expired',
        `too old resource version: ${request.resourceVersion} (${store.resourceVersion()})`,
      );
      write('ERROR', error.toStatus());
      end();
      return end;
    }
    for (const change of changes) send(change);
  }
  if (request.allowBookmarks) {
    const tick = (): void => {
      bookmark();
      bookmarkTimer = setTimeout(tick, request.bookmarkIntervalMs).unref();
    };
    bookmarkTimer = setTimeout(tick, request.bookmarkIntervalMs).unref();
  }
  if (request.timeoutMs !== undefined) timeoutTimer = setTimeout(end, request.timeoutMs).unref();
  return end;
}
