import * as k8s from '@kubernetes/client-node';
import { openTestGraph } from '../../kit/graph.js';
import type { GraphStore, PathStep } from '../../../src/graph/store.js';
import type { RelationshipKind } from '../../../src/graph/schema.js';
import { describeError } from '../../../src/shared/errors.js';

/** A kubeconfig for the sim's Kubernetes API at `url`: one cluster, a bearer token, TLS unchecked. */
export function simKubeConfig(url: string, cluster: string, token: string): k8s.KubeConfig {
  const config = new k8s.KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: cluster, server: url, skipTLSVerify: true }],
    users: [{ name: 'agent', token }],
    contexts: [{ name: cluster, cluster, user: 'agent' }],
    currentContext: cluster,
  });
  return config;
}

/** A fresh embedded graph in a temp directory, closed when the test ends. */
export async function openGraph(): Promise<GraphStore> {
  return openTestGraph();
}

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${describeError(last)}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The outgoing edge `from -[kind]-> to`, or undefined. */
export async function edge(
  graph: GraphStore,
  from: string,
  kind: RelationshipKind,
  to: string,
): Promise<PathStep | undefined> {
  const reached = await graph.neighbors(from, { kinds: [kind], direction: 'out' });
  return reached.find((entry) => entry.entity.id === to)?.path[0];
}

/** Ids of the entities `from` reaches by one outgoing `kind` edge. */
export async function targets(graph: GraphStore, from: string, kind: RelationshipKind): Promise<string[]> {
  const reached = await graph.neighbors(from, { kinds: [kind], direction: 'out' });
  return reached.map((entry) => entry.entity.id).sort();
}
