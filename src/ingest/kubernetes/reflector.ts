import { describeError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { sleep } from '../../shared/clock.js';
import { KubeRequestError, type KubeClient, type WatchLine } from './kube-client.js';
import { objectKey, type KubeObject, type WatchedResource } from './resources.js';

/**
 * What a reflector hands on, in order: single changes from the watch, and after every list the
 * whole current set (`SYNCED`, with the objects that vanished since the previous list).
 */
export type ReflectorChange =
  | { type: 'ADDED' | 'MODIFIED'; object: KubeObject; previous?: KubeObject }
  | { type: 'DELETED'; object: KubeObject }
  | {
      type: 'SYNCED';
      reason: ListReason;
      objects: readonly KubeObject[];
      deleted: readonly KubeObject[];
    };

/** Why a list ran: the first one, the periodic resync, a 410 Gone, or recovery after an error. */
export type ListReason = 'initial' | 'resync' | 'expired' | 'recover';

/** Counters of one reflector. */
export interface ReflectorStats {
  lists: number;
  watches: number;
  /** Watches restarted from the last resourceVersion after the server closed them. */
  resumes: number;
  /** 410 Gone answers (each followed by a list). */
  expired: number;
  bookmarks: number;
  /** Watch events received (not bookmarks). */
  events: number;
  errors: number;
  /** Changes whose handling failed. */
  handlerErrors: number;
  objects: number;
  resourceVersion?: string;
  synced: boolean;
}

/** How to run one reflector. */
export interface ReflectorOptions {
  resource: WatchedResource;
  client: KubeClient;
  /** Called once per change, never concurrently, in order. A rejection is logged and counted. */
  handle(change: ReflectorChange): Promise<void>;
  /** Applied to every object before it is cached or handed on (e.g. dropping ConfigMap values). */
  transform?(object: KubeObject): KubeObject;
  logger: Logger;
  /** Wall ms between full lists. */
  resyncMs: number;
  /** Server-side timeout of one watch; default a random 300–600 s, as client-go does. */
  watchTimeoutSeconds?: number;
  pageSize?: number;
  /** First and longest wait between failed attempts; default 500 ms and 30 s. */
  backoffMs?: { initial: number; max: number };
  signal: AbortSignal;
}

type Outcome = 'closed' | 'expired' | 'resync' | 'aborted';

/**
 * A list-then-watch loop for one resource, keeping the current objects in memory (as client-go's
 * reflector does): lists (paged), watches from the list's resourceVersion with bookmarks, moves
 * its resourceVersion with every event and bookmark, resumes from it when the server closes the
 * watch, lists again on 410 Gone and every `resyncMs`, and backs off on errors.
 */
export class Reflector {
  readonly #options: ReflectorOptions;
  readonly #cache = new Map<string, KubeObject>();
  readonly #stats: ReflectorStats = {
    lists: 0,
    watches: 0,
    resumes: 0,
    expired: 0,
    bookmarks: 0,
    events: 0,
    errors: 0,
    handlerErrors: 0,
    objects: 0,
    synced: false,
  };
  #resourceVersion: string | undefined;
  #lastListAt = 0;
  #generation = 0;
  #chain: Promise<void> = Promise.resolve();
  #listed!: (ok: boolean) => void;
  /** Resolves true after the first successful list, false when the resource cannot be listed (403/404). */
  readonly firstList: Promise<boolean>;
  #running: Promise<void> | undefined;

  constructor(options: ReflectorOptions) {
    this.#options = options;
    this.firstList = new Promise<boolean>((resolve) => (this.#listed = resolve));
  }

  get resource(): WatchedResource {
    return this.#options.resource;
  }

  /** Starts the loop; it ends when the signal aborts. */
  start(): void {
    this.#running ??= this.#run();
  }

  /** Resolves when the loop has ended and every queued change was handled. */
  async stopped(): Promise<void> {
    await this.#running;
    await this.#chain;
  }

  /** Resolves once every change received so far was handled. */
  drained(): Promise<void> {
    return this.#chain;
  }

  /** The cached objects (read them, never mutate them). */
  objects(): KubeObject[] {
    return [...this.#cache.values()];
  }

  /** One cached object by `namespace/name` (or `name`). */
  get(key: string): KubeObject | undefined {
    return this.#cache.get(key);
  }

  stats(): ReflectorStats {
    return {
      ...this.#stats,
      objects: this.#cache.size,
      ...(this.#resourceVersion ? { resourceVersion: this.#resourceVersion } : {}),
    };
  }

  #enqueue(change: ReflectorChange): void {
    this.#chain = this.#chain.then(async () => {
      try {
        await this.#options.handle(change);
      } catch (error) {
        this.#stats.handlerErrors++;
        this.#options.logger.warn(
          { err: error, resource: this.resource.key, change: change.type },
          `handling a ${this.resource.kind} change failed: ${describeError(error)}`,
        );
      }
    });
  }

  async #run(): Promise<void> {
    const { signal, logger } = this.#options;
    let reason: ListReason | undefined = 'initial';
    let failures = 0;
    while (!signal.aborted) {
      try {
        if (reason) {
          await this.#list(reason);
          reason = undefined;
        }
        const outcome = await this.#watchOnce();
        failures = 0;
        if (outcome === 'aborted') break;
        if (outcome === 'resync') reason = 'resync';
        else if (outcome === 'expired') {
          this.#stats.expired++;
          reason = 'expired';
          logger.info({ resource: this.resource.key }, 'watch expired (410 Gone); listing again');
        } else this.#stats.resumes++;
      } catch (error) {
        if (signal.aborted) break;
        failures++;
        this.#stats.errors++;
        const status = error instanceof KubeRequestError ? error.status : undefined;
        if (!this.#stats.synced && (status === 403 || status === 404)) this.#listed(false);
        if (status === 410) {
          this.#stats.expired++;
          reason = 'expired';
        } else if (reason === undefined && !this.#resourceVersion) reason = 'recover';
        const { initial, max } = this.#options.backoffMs ?? { initial: 500, max: 30_000 };
        const wait = Math.min(max, initial * 2 ** Math.min(failures - 1, 16));
        logger.warn(
          { err: error, resource: this.resource.key, failures, retryInMs: wait },
          `${this.resource.kind} list/watch failed: ${describeError(error)}`,
        );
        await sleep(wait * (0.8 + Math.random() * 0.4), signal).catch(() => undefined);
      }
    }
    this.#listed(false);
  }

  async #list(reason: ListReason): Promise<void> {
    const { client, resource, signal } = this.#options;
    this.#stats.lists++;
    const items: KubeObject[] = [];
    let token: string | undefined;
    let version: string | undefined;
    do {
      const page = await client.list(
        resource.path,
        { limit: this.#options.pageSize ?? 500, ...(token ? { continue: token } : {}) },
        signal,
      );
      items.push(...(page.items ?? []));
      version = page.metadata?.resourceVersion;
      token = page.metadata?.continue || undefined;
    } while (token);
    const fresh = new Map<string, KubeObject>();
    for (const item of items) {
      const object = this.#transform({ ...item, apiVersion: resource.apiVersion, kind: resource.kind });
      fresh.set(objectKey(object), object);
    }
    const deleted = [...this.#cache.entries()].filter(([key]) => !fresh.has(key)).map(([, object]) => object);
    this.#generation++;
    this.#cache.clear();
    for (const [key, object] of fresh) this.#cache.set(key, object);
    this.#resourceVersion = version;
    this.#lastListAt = Date.now();
    this.#stats.synced = true;
    this.#enqueue({ type: 'SYNCED', reason, objects: [...fresh.values()], deleted });
    this.#listed(true);
  }

  #transform(object: KubeObject): KubeObject {
    return this.#options.transform ? this.#options.transform(object) : object;
  }

  #watchOnce(): Promise<Outcome> {
    const { client, resource, signal, resyncMs } = this.#options;
    const generation = ++this.#generation;
    return new Promise<Outcome>((resolve, reject) => {
      let settled = false;
      let controller: AbortController | undefined;
      const finish = (outcome: Outcome | Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        controller?.abort();
        if (outcome instanceof Error) reject(outcome);
        else resolve(outcome);
      };
      const onAbort = (): void => finish('aborted');
      if (signal.aborted) return finish('aborted');
      signal.addEventListener('abort', onAbort);
      const timer = setTimeout(() => finish('resync'), Math.max(0, this.#lastListAt + resyncMs - Date.now()));
      this.#stats.watches++;
      const timeoutSeconds = this.#options.watchTimeoutSeconds ?? Math.round(300 * (1 + Math.random()));
      client
        .watch(
          resource.path,
          {
            allowWatchBookmarks: true,
            timeoutSeconds,
            ...(this.#resourceVersion ? { resourceVersion: this.#resourceVersion } : {}),
          },
          (line) => {
            if (!settled && generation === this.#generation) this.#onLine(line, finish);
          },
          (error: unknown) => {
            if (settled) return;
            const status = (error as { statusCode?: number } | null)?.statusCode;
            if (error === null || error === undefined) finish('closed');
            else if (status === 410) finish('expired');
            else
              finish(
                status
                  ? new KubeRequestError(status, `watch ${resource.path}: ${status}`)
                  : error instanceof Error
                    ? error
                    : new Error(describeError(error)),
              );
          },
        )
        .then(
          (started) => {
            controller = started;
            if (settled) started.abort();
          },
          (error: unknown) => finish(error instanceof Error ? error : new Error(String(error))),
        );
    });
  }

  #onLine(line: WatchLine, finish: (outcome: Outcome | Error) => void): void {
    const version = line.object?.metadata?.resourceVersion;
    switch (line.type) {
      case 'ADDED':
      case 'MODIFIED': {
        const object = this.#transform({
          ...line.object,
          apiVersion: line.object.apiVersion ?? this.resource.apiVersion,
          kind: line.object.kind ?? this.resource.kind,
        });
        const key = objectKey(object);
        const previous = this.#cache.get(key);
        this.#cache.set(key, object);
        if (version) this.#resourceVersion = version;
        this.#stats.events++;
        this.#enqueue({ type: line.type, object, ...(previous ? { previous } : {}) });
        return;
      }
      case 'DELETED': {
        const object = this.#transform({
          ...line.object,
          apiVersion: line.object.apiVersion ?? this.resource.apiVersion,
          kind: line.object.kind ?? this.resource.kind,
        });
        this.#cache.delete(objectKey(object));
        if (version) this.#resourceVersion = version;
        this.#stats.events++;
        this.#enqueue({ type: 'DELETED', object });
        return;
      }
      case 'BOOKMARK':
        if (version) this.#resourceVersion = version;
        this.#stats.bookmarks++;
        return;
      case 'ERROR': {
        const code = line.object?.code;
        if (code === 410) finish('expired');
        else
          finish(
            new KubeRequestError(
              code ?? 500,
              `watch ${this.resource.path}: ${line.object?.message ?? line.object?.reason ?? 'error'}`,
            ),
          );
        return;
      }
      default:
        return;
    }
  }
}
