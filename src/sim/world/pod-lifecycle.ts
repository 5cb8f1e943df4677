import { R, STARTUP_MS, type Cluster } from './cluster.js';
import { isActive, setServing, type PodFate, type PodRecord } from './pods.js';

const MAX_BACKOFF_MS = 300_000;

/** Nodes pods may be scheduled on now (not cordoned), by name. */
export function schedulableNodes(cluster: Cluster): string[] {
  return [...cluster.store.scan(R.nodes)]
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))
    .filter((node) => !(node.spec as { unschedulable?: boolean } | undefined)?.unschedulable)
    .map((node) => node.metadata.name);
}

/** The schedulable node with the fewest active pods (ties by name), honouring a nodeSelector. */
export function pickNode(cluster: Cluster, pod: PodRecord): string | undefined {
  const pinned = (pod.template.spec.nodeSelector as Record<string, string> | undefined)?.[
    'kubernetes.io/hostname'
  ];
  const candidates = schedulableNodes(cluster).filter((node) => pinned === undefined || node === pinned);
  let best: string | undefined;
  let bestCount = Number.POSITIVE_INFINITY;
  for (const node of candidates) {
    const count = cluster.pods.filter((other) => other.node === node && isActive(other)).length;
    if (count < bestCount) {
      best = node;
      bestCount = count;
    }
  }
  return best;
}

function schedule(cluster: Cluster, pod: PodRecord, fate: PodFate | undefined): boolean {
  if (pod.node !== undefined) return true;
  const nodes = cluster.store.scan(R.nodes).length;
  const node = fate?.kind === 'unschedulable' ? undefined : pickNode(cluster, pod);
  if (!node) {
    const message =
      fate?.kind === 'unschedulable'
        ? fate.message
        : `0/${nodes} nodes are available: ${nodes} node(s) were unschedulable. preemption: 0/${nodes} nodes are available: ${nodes} Preemption is not helpful for scheduling.`;
    pod.unschedulableMessage = message;
    pod.phase = 'Pending';
    cluster.podEvent(pod, 'Warning', 'FailedScheduling', message, 'default-scheduler');
    return false;
  }
  pod.node = node;
  pod.hostIP = cluster.nodeIp(node);
  pod.ip = cluster.podIp(node);
  delete pod.unschedulableMessage;
  cluster.podEvent(
    pod,
    'Normal',
    'Scheduled',
    `Successfully assigned ${pod.namespace}/${pod.name} to ${node}`,
    'default-scheduler',
  );
  return true;
}

function pullImage(
  cluster: Cluster,
  pod: PodRecord,
  fate: Extract<PodFate, { kind: 'image-pull' }>,
  now: number,
): void {
  pod.phase = 'Pending';
  pod.ready = false;
  setServing(pod, false, now);
  const attempt = Math.floor((now - pod.createdAt) / 10_000);
  cluster.podEvent(pod, 'Normal', 'Pulling', `Pulling image "${fate.image}"`);
  if (attempt % 2 === 0) {
    pod.waiting = { reason: 'ErrImagePull', message: fate.message };
    cluster.podEvent(pod, 'Warning', 'Failed', `Failed to pull image "${fate.image}": ${fate.message}`);
    cluster.podEvent(pod, 'Warning', 'Failed', 'Error: ErrImagePull');
  } else {
    pod.waiting = { reason: 'ImagePullBackOff', message: `Back-off pulling image "${fate.image}"` };
    cluster.podEvent(pod, 'Normal', 'BackOff', `Back-off pulling image "${fate.image}"`);
    cluster.podEvent(pod, 'Warning', 'Failed', 'Error: ImagePullBackOff');
  }
}

function crashLoop(
  cluster: Cluster,
  pod: PodRecord,
  fate: Extract<PodFate, { kind: 'crash-loop' }>,
  now: number,
): void {
  pod.phase = 'Running';
  pod.ready = false;
  setServing(pod, false, now);
  const container = pod.template.spec.containers[0]?.name ?? 'app';
  if (pod.containerStartedAt === undefined) {
    pod.containerStartedAt = now - 3_000;
    cluster.podEvent(
      pod,
      'Normal',
      'Pulled',
      `Container image "${pod.template.spec.containers[0]?.image ?? ''}" already present on machine`,
    );
    cluster.podEvent(pod, 'Normal', 'Created', `Created container ${container}`);
    cluster.podEvent(pod, 'Normal', 'Started', `Started container ${container}`);
  }
  pod.nextRestartAt ??= now;
  if (pod.nextRestartAt !== undefined && now >= pod.nextRestartAt) {
    const backoff = Math.min(MAX_BACKOFF_MS, pod.backoffMs === undefined ? 10_000 : pod.backoffMs * 2);
    cluster.restartContainer(pod, { reason: fate.reason, exitCode: fate.exitCode }, fate.lines);
    pod.ready = false;
    pod.backoffMs = backoff;
    pod.nextRestartAt = now + backoff;
    pod.waiting = {
      reason: 'CrashLoopBackOff',
      message: `back-off ${Math.round(backoff / 1000)}s restarting failed container=${container} pod=${pod.name}_${pod.namespace}(${pod.uid})`,
    };
    cluster.podEvent(
      pod,
      'Warning',
      'BackOff',
      'Back-off restarting failed container ' +
        `${container} in pod ${pod.name}_${pod.namespace}(${pod.uid})`,
    );
  }
}

function runHealthy(cluster: Cluster, pod: PodRecord, now: number): void {
  const container = pod.template.spec.containers[0];
  if (pod.containerStartedAt === undefined) {
    pod.phase = 'Running';
    pod.containerStartedAt = now;
    cluster.podEvent(
      pod,
      'Normal',
      'Pulled',
      `Container image "${container?.image ?? ''}" already present on machine`,
    );
    cluster.podEvent(pod, 'Normal', 'Created', `Created container ${container?.name ?? 'app'}`);
    cluster.podEvent(pod, 'Normal', 'Started', `Started container ${container?.name ?? 'app'}`);
    const model = cluster.model(pod.service);
    cluster.host.addLog({
      t: now,
      service: pod.service,
      pod: pod.name,
      level: 'info',
      message: `starting ${pod.service} ${container?.image ?? ''} on :${model?.port ?? 8080}`,
    });
  }
  if (pod.waiting) {
    delete pod.waiting;
    delete pod.nextRestartAt;
    delete pod.backoffMs;
    pod.phase = 'Running';
    pod.containerStartedAt = now;
  }
  if (!pod.ready && now - pod.containerStartedAt >= STARTUP_MS) {
    pod.ready = true;
    pod.readyAt = now;
    setServing(pod, true, now);
  }
}

/** Moves one pod along: scheduling, image pulls, crash loops, readiness. */
export function stepPod(cluster: Cluster, pod: PodRecord, now: number): void {
  if (!isActive(pod)) return;
  const fate = cluster.host.fateOf(pod);
  if (schedule(cluster, pod, fate)) {
    if (fate?.kind === 'image-pull') pullImage(cluster, pod, fate, now);
    else if (fate?.kind === 'crash-loop') crashLoop(cluster, pod, fate, now);
    else runHealthy(cluster, pod, now);
  }
  cluster.syncPod(pod);
}
