import { stableId } from '../../shared/ids.js';

/** How urgent a finding is before correlation, SLO impact and blast radius adjust it. */
export type Severity = 'info' | 'warning' | 'critical';

/** The Kubernetes object a finding is about. `namespace` is absent for cluster-scoped objects (Node). */
export interface ObjectReference {
  kind: string;
  namespace?: string;
  name: string;
}

/** The workload that owns the object, in the object's namespace (a pod's Deployment, a Job's CronJob). */
export interface OwnerReference {
  kind: string;
  name: string;
}

/**
 * One problem an analyzer saw in a cluster snapshot. `kind` names the failure (e.g.
 * `CrashLoopBackOff`) and does not change while the problem lasts; `reason` is the detail that may
 * (e.g. the last termination reason). `evidence` holds JSON-safe values only. `fingerprint` is a
 * pure function of analyzer, object and kind, so the same problem seen on the next resync has the
 * same fingerprint and correlates into the same incident.
 */
export interface Finding {
  analyzer: string;
  kind: string;
  severity: Severity;
  object: ObjectReference;
  owner?: OwnerReference;
  message: string;
  reason?: string;
  evidence: Record<string, unknown>;
  fingerprint: string;
}

/** The fingerprint of a finding: stable across calls and processes for the same analyzer, object and kind. */
export function findingFingerprint(analyzer: string, object: ObjectReference, kind: string): string {
  return stableId('finding', analyzer, object.kind, object.namespace ?? '', object.name, kind);
}

/** Builds a finding, computing its fingerprint and leaving out absent optional fields. */
export function createFinding(input: Omit<Finding, 'fingerprint'>): Finding {
  const object: ObjectReference = { kind: input.object.kind, name: input.object.name };
  if (input.object.namespace !== undefined) object.namespace = input.object.namespace;
  const finding: Finding = {
    analyzer: input.analyzer,
    kind: input.kind,
    severity: input.severity,
    object,
    message: input.message,
    evidence: withoutUndefined(input.evidence),
    fingerprint: findingFingerprint(input.analyzer, object, input.kind),
  };
  if (input.owner !== undefined) finding.owner = input.owner;
  if (input.reason !== undefined) finding.reason = input.reason;
  return finding;
}

function withoutUndefined(record: Record<string, unknown>): Record<string, unknown> {
  return compact(record) as Record<string, unknown>;
}

/** Drops undefined fields at every depth, so evidence compares and serializes the same way. */
function compact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(compact);
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const result: Record<string, unknown> = {};
    for (const [key, field] of Object.entries(value)) {
      if (field !== undefined) result[key] = compact(field);
    }
    return result;
  }
  return value;
}
