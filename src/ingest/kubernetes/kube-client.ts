import http from 'node:http';
import https from 'node:https';
import * as k8s from '@kubernetes/client-node';
import { ConfigError, SystemError } from '../../shared/errors.js';
import type { KubeObject } from './resources.js';

/** Where the Kubernetes credentials come from. */
export interface KubeConfigSource {
  /** A kubeconfig file. */
  kubeconfigPath?: string;
  /** A loaded config (wins over `kubeconfigPath`). */
  kubeConfig?: k8s.KubeConfig;
  /** The context to use; default the file's current context. */
  context?: string;
  /** Use the pod's service account (wins over `kubeconfigPath`). */
  inCluster?: boolean;
}

/**
 * Loads the Kubernetes client configuration: the given `KubeConfig`, else the pod's service
 * account (`inCluster`), else the file at `kubeconfigPath`, else the default chain
 * (`KUBECONFIG`, `~/.kube/config`, in-cluster).
 * Throws `ConfigError` when the context is unknown or no cluster is configured.
 */
export function loadKubeConfig(source: KubeConfigSource): k8s.KubeConfig {
  let config = source.kubeConfig;
  if (!config) {
    config = new k8s.KubeConfig();
    try {
      if (source.inCluster) config.loadFromCluster();
      else if (source.kubeconfigPath) config.loadFromFile(source.kubeconfigPath);
      else config.loadFromDefault();
    } catch (error) {
      throw new ConfigError(
        [
          {
            path: 'kubernetes.kubeconfig',
            message: `could not load ${source.kubeconfigPath ?? 'the default kubeconfig'}`,
          },
        ],
        { cause: error },
      );
    }
  }
  if (source.context) {
    if (!config.getContextObject(source.context)) {
      throw new ConfigError([
        {
          path: 'kubernetes.context',
          message: `context "${source.context}" is not in the kubeconfig (it has ${
            config
              .getContexts()
              .map((context) => context.name)
              .join(', ') || 'none'
          })`,
        },
      ]);
    }
    config.setCurrentContext(source.context);
  }
  if (!config.getCurrentCluster()) {
    throw new ConfigError([
      { path: 'kubernetes.kubeconfig', message: 'the kubeconfig names no current cluster' },
    ]);
  }
  return config;
}

/** A failed API request: the HTTP status and the `Status` reason when the server sent one. */
export class KubeRequestError extends SystemError {
  readonly status: number;
  constructor(status: number, message: string) {
    super('kubernetes_request_failed', message, {
      data: { status },
      retryable: status === 0 || status === 408 || status === 429 || status >= 500,
    });
    this.status = status;
  }
}

/** One page of a list. */
export interface ObjectList {
  items: KubeObject[];
  metadata?: { resourceVersion?: string; continue?: string };
}

/** What a watch stream delivers per line. */
export interface WatchLine {
  type: string;
  object: KubeObject & { code?: number; reason?: string; message?: string };
}

/** The two calls the reflectors make, behind an interface so they stay testable. */
export interface KubeClient {
  /** GET of a list path as plain JSON (timestamps stay strings, as a watch delivers them). */
  list(path: string, query: Record<string, string | number>, signal?: AbortSignal): Promise<ObjectList>;
  /**
   * Starts a watch; `onLine` gets each event, `onDone` once when the stream ends (null: the
   * server closed it) or fails. Returns the controller that ends it.
   */
  watch(
    path: string,
    query: Record<string, string | number | boolean>,
    onLine: (line: WatchLine) => void,
    onDone: (error: unknown) => void,
  ): Promise<AbortController>;
}

const LIST_TIMEOUT_MS = 60_000;

/**
 * A client over a `KubeConfig`: lists with a plain HTTP GET carrying the kubeconfig's credentials
 * and TLS settings (the generated typed clients turn timestamps into `Date`s and rename fields,
 * which would make listed objects differ from watched ones), and watches with the library's `Watch`.
 */
export function createKubeClient(config: k8s.KubeConfig): KubeClient {
  const watcher = new k8s.Watch(config);
  const server = (config.getCurrentCluster()?.server ?? '').replace(/\/+$/, '');
  return {
    async list(path, query, signal) {
      const url = new URL(server + path);
      for (const [key, value] of Object.entries(query)) url.searchParams.set(key, String(value));
      const options: https.RequestOptions = {};
      await config.applyToHTTPSOptions(options);
      const transport = url.protocol === 'https:' ? https : http;
      return new Promise<ObjectList>((resolve, reject) => {
        const request = transport.request(
          url,
          {
            method: 'GET',
            agent: options.agent,
            headers: { ...options.headers, accept: 'application/json' },
            ...(options.auth ? { auth: options.auth } : {}),
            timeout: LIST_TIMEOUT_MS,
            ...(signal ? { signal } : {}),
          },
          (response) => {
            const chunks: Buffer[] = [];
            response.on('data', (chunk: Buffer) => chunks.push(chunk));
            response.on('error', (error) => reject(new KubeRequestError(0, error.message)));
            response.on('end', () => {
              const text = Buffer.concat(chunks).toString('utf8');
              const status = response.statusCode ?? 0;
              if (status !== 200) {
                let message = text.slice(0, 300);
                try {
                  message = (JSON.parse(text) as { message?: string }).message ?? message;
                } catch {
                  // not a Status body; keep the text
                }
                reject(new KubeRequestError(status, `GET ${path}: ${status} ${message}`));
                return;
              }
              try {
                resolve(JSON.parse(text) as ObjectList);
              } catch (error) {
                reject(
                  new KubeRequestError(
                    status,
                    `GET ${path}: the reply is not JSON (${(error as Error).message})`,
                  ),
                );
              }
            });
          },
        );
        request.on('timeout', () => request.destroy(new Error(`GET ${path} timed out`)));
        request.on('error', (error) => reject(new KubeRequestError(0, `GET ${path}: ${error.message}`)));
        request.end();
      });
    },
    watch(path, query, onLine, onDone) {
      return watcher.watch(
        path,
        query,
        (type: string, object: WatchLine['object']) => onLine({ type, object }),
        onDone,
      );
    },
  };
}
