import { createHash } from 'node:crypto';
import { hostsIn, type HostReference } from './dependencies.js';
import { canonicalJson } from './workload-state.js';
import type { KubeObject } from './resources.js';

/** Annotation the ingest puts on cached ConfigMaps in place of their data. */
export const DATA_HASH_ANNOTATION = 'nightshift.dev/data-sha256';

/** Host names one ConfigMap key names (its value is not kept). */
export interface ConfigHosts {
  key: string;
  hosts: HostReference[];
}

/** What is left of a ConfigMap after `stripConfigMap`: metadata, a content hash, the hosts named. */
export interface StrippedConfigMap {
  object: KubeObject;
  hash: string;
  keyCount: number;
  hosts: ConfigHosts[];
}

/** `sha256:<hex>` of the ConfigMap's `data` and `binaryData` (canonical JSON, keys sorted). */
export function configMapHash(object: KubeObject): string {
  const content = { data: object.data ?? {}, binaryData: object.binaryData ?? {} };
  return `sha256:${createHash('sha256').update(canonicalJson(content)).digest('hex')}`;
}

function hostsOfValue(key: string, value: string): HostReference[] {
  if (!value.includes('\n')) return hostsIn(key, value);
  // A file (properties, env, YAML): read `name = value` and `name: value` lines.
  const found: HostReference[] = [];
  for (const line of value.split('\n').slice(0, 2000)) {
    const match = /^\s*([A-Za-z_][\w.-]*)\s*[:=]\s*["']?([^"'#\s][^"'#]*?)["']?\s*$/.exec(line);
    if (match?.[1] && match[2]) found.push(...hostsIn(match[1], match[2]));
  }
  return found;
}

/**
 * Drops a ConfigMap's values: keeps its metadata, records a hash of the content (also as the
 * `nightshift.dev/data-sha256` annotation of the cached copy) and the host names its keys name,
 * for dependency inference. The values themselves are never cached, logged or written.
 */
export function stripConfigMap(object: KubeObject): StrippedConfigMap {
  const hash = configMapHash(object);
  const data = (object.data ?? {}) as Record<string, unknown>;
  const hosts: ConfigHosts[] = [];
  for (const [key, value] of Object.entries(data)) {
    if (typeof value !== 'string') continue;
    const found = hostsOfValue(key, value);
    if (found.length > 0) hosts.push({ key, hosts: found });
  }
  const keyCount = Object.keys(data).length + Object.keys(object.binaryData ?? {}).length;
  const { data: _data, binaryData: _binary, ...rest } = object;
  const metadata = rest.metadata ?? {};
  return {
    object: {
      ...rest,
      metadata: {
        ...metadata,
        annotations: { ...(metadata.annotations ?? {}), [DATA_HASH_ANNOTATION]: hash },
      },
    },
    hash,
    keyCount,
    hosts,
  };
}
