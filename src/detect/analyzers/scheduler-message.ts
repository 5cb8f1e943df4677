/** One reason the scheduler gave for rejecting nodes. */
export type SchedulingCauseKind =
  | 'insufficient-resource'
  | 'node-selector-mismatch'
  | 'pod-affinity'
  | 'pod-anti-affinity'
  | 'topology-spread'
  | 'untolerated-taint'
  | 'unbound-pvc'
  | 'missing-pvc'
  | 'volume-node-affinity'
  | 'volume-limit'
  | 'node-unschedulable'
  | 'too-many-pods'
  | 'host-port'
  | 'scheduling-gated'
  | 'other';

/** A cause parsed from the scheduler's message, with how many nodes it ruled out (when stated). */
export interface SchedulingCause {
  cause: SchedulingCauseKind;
  /** Nodes this reason ruled out; absent for pod-level reasons such as unbound PVCs. */
  nodes?: number;
  /** For `insufficient-resource`: the resource name (`cpu`, `memory`, `nvidia.com/gpu`). */
  resource?: string;
  /** For `untolerated-taint`: the taint key. */
  taint?: string;
  /** For `missing-pvc`: the claim name. */
  claim?: string;
  /** The reason text as the scheduler wrote it. */
  detail: string;
}

/** The scheduler's FailedScheduling / Unschedulable message, parsed. */
export interface SchedulingFailure {
  availableNodes?: number;
  totalNodes?: number;
  causes: SchedulingCause[];
  /** The `preemption: ...` tail, when present. */
  preemption?: string;
}

/**
 * Parses kube-scheduler messages such as `0/3 nodes are available: 1 node(s) had untolerated taint
 * {node-role.kubernetes.io/control-plane: }, 2 Insufficient memory. preemption: 0/3 nodes are
 * available: ...`. Also understands the older `had taint {...}, that the pod didn't tolerate` form
 * and the `SchedulingGated` message. Text it does not recognise becomes a cause of kind `other`; never throws.
 */
export function parseSchedulerMessage(message: string): SchedulingFailure {
  const text = message.trim();
  if (/scheduling gates/i.test(text)) {
    return { causes: [{ cause: 'scheduling-gated', detail: text }] };
  }
  const header = /^(\d+)\/(\d+) nodes are available(?::\s*)?/.exec(text);
  if (!header) return { causes: [{ cause: 'other', detail: text }] };
  const failure: SchedulingFailure = {
    availableNodes: Number(header[1]),
    totalNodes: Number(header[2]),
    causes: [],
  };
  let rest = text.slice(header[0].length);
  const preemptionAt = rest.search(/\.?\s*preemption:/);
  if (preemptionAt >= 0) {
    failure.preemption = rest
      .slice(preemptionAt)
      .replace(/^\.?\s*preemption:\s*/, '')
      .trim();
    rest = rest.slice(0, preemptionAt);
  }
  rest = rest.trim().replace(/\.$/, '');
  if (rest === '') return failure;
  for (const segment of rest.split(/,\s+(?=\d+ |pod |persistentvolumeclaim |node\(s\) )/)) {
    failure.causes.push(classifySegment(segment.trim()));
  }
  return failure;
}

function classifySegment(segment: string): SchedulingCause {
  const counted = /^(\d+) (.*)$/s.exec(segment);
  const nodes = counted ? Number(counted[1]) : undefined;
  const text = counted?.[2] ?? segment;
  const cause = (kind: SchedulingCauseKind, extra: Partial<SchedulingCause> = {}): SchedulingCause => ({
    cause: kind,
    ...(nodes === undefined ? {} : { nodes }),
    ...extra,
    detail: segment,
  });

  const insufficient = /^Insufficient (\S+)/.exec(text);
  if (insufficient?.[1]) return cause('insufficient-resource', { resource: insufficient[1] });
  if (
    /didn't match Pod's node affinity\/selector|didn't match node selector|node\(s\) didn't match node affinity/i.test(
      text,
    )
  ) {
    return cause('node-selector-mismatch');
  }
  if (/anti-affinity/i.test(text)) return cause('pod-anti-affinity');
  if (/pod affinity/i.test(text)) return cause('pod-affinity');
  if (/topology spread constraints/i.test(text)) return cause('topology-spread');
  const taint = /had (?:untolerated )?taints? \{([^:}]+)/.exec(text);
  if (taint?.[1]) return cause('untolerated-taint', { taint: taint[1].trim() });
  const missingClaim = /persistentvolumeclaim "([^"]+)" not found/i.exec(text);
  if (missingClaim?.[1]) return cause('missing-pvc', { claim: missingClaim[1] });
  if (
    /unbound (?:immediate )?PersistentVolumeClaims|didn't find available persistent volumes to bind/i.test(
      text,
    )
  ) {
    return cause('unbound-pvc');
  }
  if (/volume node affinity conflict/i.test(text)) return cause('volume-node-affinity');
  if (/exceed max volume count/i.test(text)) return cause('volume-limit');
  if (/Too many pods/i.test(text)) return cause('too-many-pods');
  if (/free ports/i.test(text)) return cause('host-port');
  if (/unschedulable/i.test(text)) return cause('node-unschedulable');
  return cause('other');
}

const reasonNames: Record<SchedulingCauseKind, string> = {
  'insufficient-resource': 'InsufficientResources',
  'node-selector-mismatch': 'NodeSelectorMismatch',
  'pod-affinity': 'PodAffinity',
  'pod-anti-affinity': 'PodAntiAffinity',
  'topology-spread': 'TopologySpread',
  'untolerated-taint': 'UntoleratedTaint',
  'unbound-pvc': 'UnboundPersistentVolumeClaim',
  'missing-pvc': 'MissingPersistentVolumeClaim',
  'volume-node-affinity': 'VolumeNodeAffinityConflict',
  'volume-limit': 'VolumeLimitExceeded',
  'node-unschedulable': 'NodeUnschedulable',
  'too-many-pods': 'TooManyPods',
  'host-port': 'HostPortConflict',
  'scheduling-gated': 'SchedulingGated',
  other: 'Unschedulable',
};

/**
 * The cause that explains the failure best: the one that ruled out the most nodes, a pod-level
 * cause (an unbound or missing PVC, scheduling gates: no count, every node) counting as all of
 * them; the first one on a tie.
 */
export function primaryCause(failure: SchedulingFailure): SchedulingCause | undefined {
  const reach = (cause: SchedulingCause): number =>
    cause.nodes ?? failure.totalNodes ?? Number.POSITIVE_INFINITY;
  let best: SchedulingCause | undefined;
  for (const cause of failure.causes) {
    if (!best || reach(cause) > reach(best)) best = cause;
  }
  return best;
}

/** The PascalCase reason recorded on a finding for a cause kind (`InsufficientResources`, ...). */
export function schedulingReasonName(cause: SchedulingCauseKind): string {
  return reasonNames[cause];
}
