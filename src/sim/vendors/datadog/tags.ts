import type { VendorService } from '../source.js';

/** The Datadog tags the sim puts on a service's metrics, logs and events (`key:value`). */
export function serviceTags(service: VendorService): Map<string, string> {
  const tags = new Map<string, string>([
    ['service', service.name],
    ['kube_namespace', service.namespace],
    ['kube_deployment', service.name],
  ]);
  if (service.environment) tags.set('env', service.environment);
  if (service.tier) tags.set('tier', service.tier);
  return tags;
}

/** Matches a tag value against a pattern where `*` stands for any text. */
export function wildcardMatch(pattern: string, value: string): boolean {
  if (!pattern.includes('*')) return pattern.toLowerCase() === value.toLowerCase();
  const escaped = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${escaped}$`, 'i').test(value);
}
