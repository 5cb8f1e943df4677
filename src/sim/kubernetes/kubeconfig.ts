import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { stringify } from 'yaml';

/** What a kubeconfig for the sim names. */
export interface KubeconfigOptions {
  url: string;
  token: string;
  /** Cluster and context name. */
  cluster: string;
  namespace?: string;
  user?: string;
}

/** The kubeconfig (v1 Config) text for the sim's API server. */
export function kubeconfigText(options: KubeconfigOptions): string {
  const user = options.user ?? 'nightshift';
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    preferences: {},
    clusters: [{ name: options.cluster, cluster: { server: options.url, 'insecure-skip-tls-verify': true } }],
    users: [{ name: user, user: { token: options.token } }],
    contexts: [
      {
        name: options.cluster,
        context: {
          cluster: options.cluster,
          user,
          ...(options.namespace ? { namespace: options.namespace } : {}),
        },
      },
    ],
    'current-context': options.cluster,
  });
}

/** Writes the kubeconfig to `path` (mode 0600, creating folders). */
export async function writeKubeconfig(path: string, options: KubeconfigOptions): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, kubeconfigText(options), { mode: 0o600 });
}
