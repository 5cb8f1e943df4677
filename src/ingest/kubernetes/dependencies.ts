/**
 * Dependency inference from configuration: which Services (and outside hosts) a workload's
 * environment points at. Only host names are extracted; values are never kept.
 */

/** Variable names whose bare values (no scheme, no port, no dot) are taken as host names. */
const HOST_VARIABLE =
  /(HOST|HOSTNAME|ADDR|ADDRESS|SERVER|SERVERS|SERVICE|ENDPOINT|URL|URI|DSN|BROKER|BROKERS|NODES)$/i;
const LABEL = '[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?';
const HOST_PORT_PATH = new RegExp(`^(${LABEL}(?:\\.${LABEL})*)(?::(\\d{1,5}))?(?:/.*)?$`);
const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;
const CLUSTER_SUFFIXES = ['.svc.cluster.local', '.svc'];

/** A host a configuration value names, and whether its form says "network address" for sure. */
export interface HostReference {
  host: string;
  /** A URL or `host:port`: an address beyond doubt (a bare word may be anything). */
  explicit: boolean;
}

/** The hosts a value names: URL hosts, `host:port`, and bare host names for host-like variable names. */
export function hostsIn(variable: string, value: string): HostReference[] {
  const found = new Map<string, HostReference>();
  for (const token of value.split(/[\s,;]+/)) {
    if (!token || token.length > 2048) continue;
    let host: string | undefined;
    let explicit = false;
    if (SCHEME.test(token)) {
      try {
        host = new URL(token).hostname;
        explicit = true;
      } catch {
        continue;
      }
    } else {
      const match = HOST_PORT_PATH.exec(token.toLowerCase());
      if (!match?.[1]) continue;
      if (match[2] !== undefined) explicit = true;
      else if (!HOST_VARIABLE.test(variable)) continue;
      host = match[1];
    }
    host = host.toLowerCase().replace(/^\[|\]$/g, '');
    if (!host || /^[\d.]+$/.test(host) || host.includes(':')) continue;
    const previous = found.get(host);
    found.set(host, { host, explicit: explicit || (previous?.explicit ?? false) });
  }
  return [...found.values()];
}

/** Where a host resolves inside the cluster: a Service name in a namespace. */
export interface ServiceTarget {
  namespace: string;
  name: string;
}

/**
 * Resolves a host the way cluster DNS does from a pod in `namespace`: `name`, `name.ns`,
 * `name.ns.svc`, `name.ns.svc.cluster.local`; answers only when such a Service exists.
 */
export function resolveService(
  host: string,
  namespace: string,
  hasService: (namespace: string, name: string) => boolean,
): ServiceTarget | undefined {
  let name = host;
  for (const suffix of CLUSTER_SUFFIXES) {
    if (name.endsWith(suffix)) {
      name = name.slice(0, -suffix.length);
      break;
    }
  }
  const parts = name.split('.');
  if (parts.length === 1 && parts[0] && hasService(namespace, parts[0])) return { namespace, name: parts[0] };
  if (parts.length === 2 && parts[0] && parts[1] && hasService(parts[1], parts[0])) {
    return { namespace: parts[1], name: parts[0] };
  }
  return undefined;
}

/** True for a host outside the cluster worth recording: a dotted DNS name with an alphabetic top label. */
export function isExternalHost(host: string): boolean {
  if (!host.includes('.') || host.endsWith('.local') || host.endsWith('.internal')) return false;
  if (CLUSTER_SUFFIXES.some((suffix) => host.endsWith(suffix))) return false;
  const top = host.slice(host.lastIndexOf('.') + 1);
  return /^[a-z]{2,63}$/.test(top);
}
