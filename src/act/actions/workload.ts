import { NightshiftError } from '../../shared/errors.js';
import type { KubeObject, WorkloadKind, WorkloadRef } from '../kubernetes-api.js';
import type { ActionTarget } from '../types.js';

/** The annotation holding a Deployment's and its ReplicaSets' revision. */
export const REVISION = 'deployment.kubernetes.io/revision';
/** The template annotation `kubectl rollout restart` sets. */
export const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';

/** A pod template as JSON. */
export interface PodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: { containers?: Array<{ name: string; image?: string } & Record<string, unknown>> } & Record<
    string,
    unknown
  >;
}

/** The workload a target names; rejects kinds other than those given. */
export function workloadRef(target: ActionTarget, kinds: readonly WorkloadKind[]): WorkloadRef {
  if (!kinds.includes(target.kind as WorkloadKind))
    throw new NightshiftError('target_unsupported', `${target.kind} is not one of ${kinds.join(', ')}`);
  if (!target.namespace)
    throw new NightshiftError('target_unsupported', `${target.kind} ${target.name} needs a namespace`);
  return { kind: target.kind as WorkloadKind, namespace: target.namespace, name: target.name };
}

export function templateOf(object: KubeObject): PodTemplate {
  return (object.spec as { template?: PodTemplate } | undefined)?.template ?? {};
}

/** JSON with object keys sorted, so equal values print equally. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    item !== null && typeof item === 'object' && !Array.isArray(item)
      ? Object.fromEntries(
          Object.entries(item as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)),
        )
      : item,
  );
}

/** A copy of the template without the `pod-template-hash` label the controller adds. */
export function withoutHash(template: PodTemplate): PodTemplate {
  const copy = JSON.parse(JSON.stringify(template)) as PodTemplate;
  if (copy.metadata?.labels) {
    delete copy.metadata.labels['pod-template-hash'];
  }
  return copy;
}

/** Templates equal ignoring `pod-template-hash`, as `kubectl rollout undo` compares them. */
export function sameTemplate(a: PodTemplate, b: PodTemplate): boolean {
  return canonicalJson(withoutHash(a)) === canonicalJson(withoutHash(b));
}

/** `spec.paused` of a Deployment. */
export function isPaused(object: KubeObject): boolean {
  return Boolean((object.spec as { paused?: unknown } | undefined)?.paused);
}

/** The per-container image changes between two templates, as plan changes. */
export function imageChanges(
  from: PodTemplate,
  to: PodTemplate,
): Array<{ path: string; from: unknown; to: unknown }> {
  const before = new Map((from.spec?.containers ?? []).map((container) => [container.name, container.image]));
  const after = new Map((to.spec?.containers ?? []).map((container) => [container.name, container.image]));
  const names = [...new Set([...before.keys(), ...after.keys()])].sort();
  return names
    .filter((name) => before.get(name) !== after.get(name))
    .map((name) => ({
      path: `spec.template.spec.containers[${name}].image`,
      from: before.get(name) ?? null,
      to: after.get(name) ?? null,
    }));
}

/** The label selector (`a=b,c=d`) of a workload's `spec.selector.matchLabels`. */
export function selectorOf(object: KubeObject): string {
  const labels =
    (object.spec as { selector?: { matchLabels?: Record<string, string> } } | undefined)?.selector
      ?.matchLabels ?? {};
  return Object.entries(labels)
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}
