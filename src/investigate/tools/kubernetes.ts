import * as k8s from '@kubernetes/client-node';
import { z } from 'zod';
import { analyze } from '../../detect/analyzers/analyze.js';
import type { ClusterSnapshot } from '../../detect/analyzers/snapshot.js';
import { describeError } from '../../shared/errors.js';
import { sample } from './bound.js';
import { defineTool, type ReadOnlyTool, type ToolResult } from './tool.js';

/**
 * Read-only Kubernetes tools over `@kubernetes/client-node`: get/list/describe-like summaries,
 * pod logs (current and previous), events, rollout history (ReplicaSets by revision) and a run
 * of the detect analyzers over a namespace. Only `read*` and `list*` calls are made.
 */

const KINDS = [
  'Pod',
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'ReplicaSet',
  'Node',
  'Service',
  'ConfigMap',
  'Job',
] as const;
type Kind = (typeof KINDS)[number];

const name = z.string().min(1).max(253);
const namespace = z.string().min(1).max(63);

function iso(value: Date | string | undefined | null): string | undefined {
  if (value === undefined || value === null) return undefined;
  return value instanceof Date ? value.toISOString() : value;
}

function ms(value: Date | string | undefined | null): number | undefined {
  if (value === undefined || value === null) return undefined;
  const parsed = value instanceof Date ? value.getTime() : Date.parse(value);
  return Number.isFinite(parsed) ? parsed : undefined;
}

function apiFailure(what: string, error: unknown): ToolResult {
  const code = (error as { code?: unknown }).code;
  if (code === 404) return { status: 'no_data', summary: `${what}: not found` };
  return { status: 'error', summary: `${what}: ${describeError(error)}` };
}

/** A compact description of a pod: phase, readiness, restarts and why containers are not running. */
export interface PodSummary {
  name: string;
  node?: string;
  phase?: string;
  ready: boolean;
  restarts: number;
  waiting?: string;
  lastTermination?: string;
  image?: string;
  createdAt?: string;
}

function summarizePod(pod: k8s.V1Pod): PodSummary {
  const statuses = pod.status?.containerStatuses ?? [];
  const waiting = statuses.map((status) => status.state?.waiting?.reason).find(Boolean);
  const last = statuses.map((status) => status.lastState?.terminated?.reason).find(Boolean);
  const summary: PodSummary = {
    name: pod.metadata?.name ?? '',
    ready: statuses.length > 0 && statuses.every((status) => status.ready),
    restarts: statuses.reduce((sum, status) => sum + (status.restartCount ?? 0), 0),
  };
  if (pod.spec?.nodeName) summary.node = pod.spec.nodeName;
  if (pod.status?.phase) summary.phase = pod.status.phase;
  if (waiting) summary.waiting = waiting;
  else if (pod.status?.reason) summary.waiting = pod.status.reason;
  if (last) summary.lastTermination = last;
  const image = pod.spec?.containers[0]?.image;
  if (image) summary.image = image;
  const created = iso(pod.metadata?.creationTimestamp);
  if (created) summary.createdAt = created;
  return summary;
}

function summarizeObject(kind: Kind, object: Record<string, unknown>): Record<string, unknown> {
  const metadata = (object.metadata ?? {}) as k8s.V1ObjectMeta;
  const base: Record<string, unknown> = {
    kind,
    name: metadata.name,
    namespace: metadata.namespace,
    createdAt: iso(metadata.creationTimestamp),
    labels: metadata.labels,
  };
  switch (kind) {
    case 'Pod':
      return { ...base, ...summarizePod(object) };
    case 'Deployment':
    case 'StatefulSet':
    case 'DaemonSet': {
      const workload = object as k8s.V1Deployment;
      return {
        ...base,
        revision: metadata.annotations?.['deployment.kubernetes.io/revision'],
        image: workload.spec?.template.spec?.containers[0]?.image,
        replicas: workload.spec?.replicas,
        readyReplicas: workload.status?.readyReplicas ?? 0,
        updatedReplicas: workload.status?.updatedReplicas ?? 0,
        paused: workload.spec?.paused ?? false,
        conditions: (workload.status?.conditions ?? []).map(
          (c) => `${c.type}=${c.status}${c.reason ? ` (${c.reason})` : ''}`,
        ),
      };
    }
    case 'ReplicaSet': {
      const set = object as k8s.V1ReplicaSet;
      return {
        ...base,
        revision: metadata.annotations?.['deployment.kubernetes.io/revision'],
        image: set.spec?.template?.spec?.containers[0]?.image,
        replicas: set.status?.replicas ?? 0,
        readyReplicas: set.status?.readyReplicas ?? 0,
      };
    }
    case 'Node': {
      const node = object as k8s.V1Node;
      return {
        ...base,
        unschedulable: node.spec?.unschedulable ?? false,
        taints: (node.spec?.taints ?? []).map((t) => `${t.key}:${t.effect}`),
        conditions: (node.status?.conditions ?? []).map((c) => ({
          type: c.type,
          status: c.status,
          reason: c.reason,
        })),
      };
    }
    case 'ConfigMap': {
      // Keys only: values may hold credentials a pattern cannot recognise.
      const map = object as k8s.V1ConfigMap;
      return { ...base, keys: Object.keys(map.data ?? {}) };
    }
    case 'Service': {
      const service = object as k8s.V1Service;
      return {
        ...base,
        type: service.spec?.type,
        selector: service.spec?.selector,
        ports: service.spec?.ports?.map((p) => p.port),
      };
    }
    case 'Job': {
      const job = object as k8s.V1Job;
      return {
        ...base,
        active: job.status?.active ?? 0,
        failed: job.status?.failed ?? 0,
        succeeded: job.status?.succeeded ?? 0,
      };
    }
  }
}

/** One line a person reads: the fields that say whether the object is healthy. */
function describeObject(data: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const key of [
    'phase',
    'ready',
    'restarts',
    'waiting',
    'lastTermination',
    'image',
    'revision',
    'replicas',
    'readyReplicas',
    'unschedulable',
    'paused',
  ]) {
    const value = data[key];
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
      if (value !== '') parts.push(`${key}=${String(value)}`);
  }
  const conditions = data.conditions;
  if (Array.isArray(conditions))
    parts.push(
      `conditions: ${conditions
        .map((condition) =>
          typeof condition === 'string'
            ? condition
            : `${String((condition as { type?: string }).type)}=${String((condition as { status?: string }).status)}`,
        )
        .join(', ')}`,
    );
  if (Array.isArray(data.keys)) parts.push(`keys: ${(data.keys as string[]).join(', ')}`);
  return parts.join('; ') || 'found';
}

interface Clients {
  core: k8s.CoreV1Api;
  apps: k8s.AppsV1Api;
  batch: k8s.BatchV1Api;
}

async function readObject(
  clients: Clients,
  kind: Kind,
  ns: string | undefined,
  objectName: string,
): Promise<unknown> {
  const namespaced = { name: objectName, namespace: ns ?? 'default' };
  switch (kind) {
    case 'Pod':
      return clients.core.readNamespacedPod(namespaced);
    case 'Deployment':
      return clients.apps.readNamespacedDeployment(namespaced);
    case 'StatefulSet':
      return clients.apps.readNamespacedStatefulSet(namespaced);
    case 'DaemonSet':
      return clients.apps.readNamespacedDaemonSet(namespaced);
    case 'ReplicaSet':
      return clients.apps.readNamespacedReplicaSet(namespaced);
    case 'Node':
      return clients.core.readNode({ name: objectName });
    case 'Service':
      return clients.core.readNamespacedService(namespaced);
    case 'ConfigMap':
      return clients.core.readNamespacedConfigMap(namespaced);
    case 'Job':
      return clients.batch.readNamespacedJob(namespaced);
  }
}

async function listObjects(
  clients: Clients,
  kind: Kind,
  ns: string | undefined,
  labelSelector: string | undefined,
  limit: number,
): Promise<Array<Record<string, unknown>>> {
  const query = { namespace: ns ?? 'default', limit, ...(labelSelector ? { labelSelector } : {}) };
  let list: { items: unknown[] };
  switch (kind) {
    case 'Pod':
      list = await clients.core.listNamespacedPod(query);
      break;
    case 'Deployment':
      list = await clients.apps.listNamespacedDeployment(query);
      break;
    case 'StatefulSet':
      list = await clients.apps.listNamespacedStatefulSet(query);
      break;
    case 'DaemonSet':
      list = await clients.apps.listNamespacedDaemonSet(query);
      break;
    case 'ReplicaSet':
      list = await clients.apps.listNamespacedReplicaSet(query);
      break;
    case 'Node':
      list = await clients.core.listNode({ limit, ...(labelSelector ? { labelSelector } : {}) });
      break;
    case 'Service':
      list = await clients.core.listNamespacedService(query);
      break;
    case 'ConfigMap':
      list = await clients.core.listNamespacedConfigMap(query);
      break;
    case 'Job':
      list = await clients.batch.listNamespacedJob(query);
      break;
  }
  return list.items as Array<Record<string, unknown>>;
}

/** Options of the Kubernetes tools. */
export interface KubernetesToolsOptions {
  kubeConfig: k8s.KubeConfig;
  /** Namespace used when a call names none; default the kubeconfig context's, else `default`. */
  defaultNamespace?: string;
}

/** One ReplicaSet revision of a Deployment, newest first in `RolloutHistory.revisions`. */
export interface RolloutRevision {
  revision: number;
  replicaSet: string;
  image?: string;
  createdAt?: number;
  replicas: number;
  readyReplicas: number;
  changeCause?: string;
}

export interface RolloutHistory {
  deployment: string;
  namespace: string;
  currentRevision?: number;
  revisions: RolloutRevision[];
}

/** Log lines of a pod, sampled, with counts by level. */
export interface PodLogs {
  pod: string;
  previous: boolean;
  lines: string[];
  totalLines: number;
  errorLines: number;
  warnLines: number;
  /** The most common error messages (numbers masked), most frequent first. */
  topErrors: Array<{ message: string; count: number }>;
}

/** Events with counts by reason. */
export interface EventDigest {
  total: number;
  byReason: Record<string, number>;
  recent: Array<{ at?: string; type?: string; reason?: string; object?: string; message?: string }>;
}

/** Groups error-like log lines by their text with digits masked. */
export function topMessages(lines: readonly string[], limit = 5): Array<{ message: string; count: number }> {
  const counts = new Map<string, { message: string; count: number }>();
  for (const line of lines) {
    const key = line.replace(/\d+/g, '#').slice(0, 200);
    const entry = counts.get(key);
    if (entry) entry.count++;
    else counts.set(key, { message: line.slice(0, 300), count: 1 });
  }
  return [...counts.values()].sort((a, b) => b.count - a.count).slice(0, limit);
}

const ERROR_LINE = /\b(error|fatal|panic|exception|fail(ed|ure)?)\b|status=5\d\d/i;
const WARN_LINE = /\bwarn(ing)?\b/i;

/** The Kubernetes tools. */
export function createKubernetesTools(options: KubernetesToolsOptions): ReadOnlyTool[] {
  const config = options.kubeConfig;
  const clients: Clients = {
    core: config.makeApiClient(k8s.CoreV1Api),
    apps: config.makeApiClient(k8s.AppsV1Api),
    batch: config.makeApiClient(k8s.BatchV1Api),
  };
  const contextNamespace = config.getContextObject(config.getCurrentContext())?.namespace;
  const defaultNamespace = options.defaultNamespace ?? contextNamespace ?? 'default';
  const nsOf = (value: string | undefined): string => value ?? defaultNamespace;

  const get = defineTool({
    name: 'k8s_get',
    description:
      'Describe one Kubernetes object (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Node, Service, ConfigMap keys, Job): status, image, replicas, conditions.',
    input: z.strictObject({ kind: z.enum(KINDS), namespace: namespace.optional(), name }),
    async run(input): Promise<ToolResult<Record<string, unknown>>> {
      try {
        const object = (await readObject(clients, input.kind, nsOf(input.namespace), input.name)) as Record<
          string,
          unknown
        >;
        const data = summarizeObject(input.kind, object);
        // Like `kubectl describe`: the object's own recent events, best effort.
        const events = await (
          input.kind === 'Node'
            ? clients.core.listEventForAllNamespaces({ fieldSelector: `involvedObject.name=${input.name}` })
            : clients.core.listNamespacedEvent({
                namespace: nsOf(input.namespace),
                fieldSelector: `involvedObject.name=${input.name}`,
              })
        ).catch(() => ({ items: [] as k8s.CoreV1Event[] }));
        data.events = events.items
          .slice(-10)
          .map(
            (event) => `${event.type ?? ''} ${event.reason ?? ''}: ${(event.message ?? '').slice(0, 200)}`,
          );
        return { status: 'ok', summary: `${input.kind} ${input.name}: ${describeObject(data)}`, data };
      } catch (error) {
        return apiFailure(`${input.kind} ${input.name}`, error) as ToolResult<Record<string, unknown>>;
      }
    },
  });

  const list = defineTool({
    name: 'k8s_list',
    description:
      'List Kubernetes objects of one kind in a namespace, optionally by label selector (e.g. app=checkout); compact summaries.',
    input: z.strictObject({
      kind: z.enum(KINDS),
      namespace: namespace.optional(),
      labelSelector: z.string().max(256).optional(),
      limit: z.number().int().min(1).max(500).default(100),
    }),
    async run(input): Promise<ToolResult<{ items: Array<Record<string, unknown>> }>> {
      try {
        const items = await listObjects(
          clients,
          input.kind,
          nsOf(input.namespace),
          input.labelSelector,
          input.limit,
        );
        const summaries = items.map((item) => summarizeObject(input.kind, item));
        if (summaries.length === 0) return { status: 'no_data', summary: `no ${input.kind} objects match` };
        let summary = `${summaries.length} ${input.kind}(s)`;
        if (input.kind === 'Pod') {
          const pods = summaries as unknown as PodSummary[];
          const notReady = pods.filter((pod) => !pod.ready).length;
          const restarts = pods.reduce((sum, pod) => sum + pod.restarts, 0);
          const reasons = [
            ...new Set(pods.flatMap((pod) => [pod.waiting, pod.lastTermination].filter(Boolean))),
          ];
          summary += `; ${notReady} not ready; ${restarts} restarts${reasons.length ? `; reasons: ${reasons.join(', ')}` : ''}`;
        }
        return { status: 'ok', summary, data: { items: summaries } };
      } catch (error) {
        return apiFailure(`list ${input.kind}`, error) as ToolResult<{
          items: Array<Record<string, unknown>>;
        }>;
      }
    },
  });

  const logs = defineTool({
    name: 'k8s_pod_logs',
    description:
      'Read the last lines of a pod container log (previous: true for the crashed instance before the last restart); sampled, with error counts.',
    input: z.strictObject({
      namespace: namespace.optional(),
      pod: name,
      container: z.string().max(253).optional(),
      previous: z.boolean().default(false),
      tailLines: z.number().int().min(1).max(2000).default(200),
    }),
    outputBudgetChars: 5_000,
    async run(input): Promise<ToolResult<PodLogs>> {
      try {
        const text = await clients.core.readNamespacedPodLog({
          name: input.pod,
          namespace: nsOf(input.namespace),
          previous: input.previous,
          tailLines: input.tailLines,
          ...(input.container ? { container: input.container } : {}),
        });
        const all = String(text)
          .split('\n')
          .filter((line) => line.trim() !== '');
        if (all.length === 0) return { status: 'no_data', summary: `${input.pod}: empty log` };
        const errors = all.filter((line) => ERROR_LINE.test(line));
        const data: PodLogs = {
          pod: input.pod,
          previous: input.previous,
          lines: sample(all, 30),
          totalLines: all.length,
          errorLines: errors.length,
          warnLines: all.filter((line) => WARN_LINE.test(line)).length,
          topErrors: topMessages(errors),
        };
        return {
          status: 'ok',
          summary: `${input.pod}${input.previous ? ' (previous)' : ''}: ${all.length} lines, ${errors.length} errors${
            data.topErrors.length
              ? `; most common: ${data.topErrors
                  .slice(0, 3)
                  .map((item) => `${item.message} (×${item.count})`)
                  .join(' | ')}`
              : ''
          }`,
          data,
        };
      } catch (error) {
        return apiFailure(`logs of ${input.pod}`, error) as ToolResult<PodLogs>;
      }
    },
  });

  const events = defineTool({
    name: 'k8s_events',
    description:
      'Kubernetes events in a namespace (or for nodes: namespace omitted and kind Node), optionally for one object; counted by reason, newest sampled.',
    input: z.strictObject({
      namespace: namespace.optional(),
      involvedName: z.string().max(253).optional(),
      involvedKind: z.string().max(64).optional(),
      sinceMinutes: z.number().int().min(1).max(1440).default(60),
    }),
    async run(input, context): Promise<ToolResult<EventDigest>> {
      try {
        const selectors = [
          input.involvedName ? `involvedObject.name=${input.involvedName}` : undefined,
          input.involvedKind ? `involvedObject.kind=${input.involvedKind}` : undefined,
        ].filter((part): part is string => part !== undefined);
        const query = selectors.length ? { fieldSelector: selectors.join(',') } : {};
        const list =
          input.namespace === undefined && input.involvedKind === 'Node'
            ? await clients.core.listEventForAllNamespaces(query)
            : await clients.core.listNamespacedEvent({ namespace: nsOf(input.namespace), ...query });
        const since = context.now - input.sinceMinutes * 60_000;
        const items = list.items
          .map((event) => ({
            event,
            at: ms(event.lastTimestamp) ?? ms(event.eventTime) ?? ms(event.metadata.creationTimestamp),
          }))
          .filter(({ at }) => at === undefined || at >= since)
          .sort((a, b) => (b.at ?? 0) - (a.at ?? 0));
        if (items.length === 0) return { status: 'no_data', summary: 'no events in the window' };
        const byReason: Record<string, number> = {};
        for (const { event } of items) {
          const reason = event.reason ?? 'unknown';
          byReason[reason] = (byReason[reason] ?? 0) + Math.max(1, event.count ?? 1);
        }
        const data: EventDigest = {
          total: items.length,
          byReason,
          recent: items.slice(0, 15).map(({ event, at }) => ({
            ...(at !== undefined ? { at: new Date(at).toISOString() } : {}),
            ...(event.type ? { type: event.type } : {}),
            ...(event.reason ? { reason: event.reason } : {}),
            object: `${event.involvedObject.kind ?? ''}/${event.involvedObject.name ?? ''}`,
            ...(event.message ? { message: event.message.slice(0, 300) } : {}),
          })),
        };
        const top = Object.entries(byReason)
          .sort((a, b) => b[1] - a[1])
          .slice(0, 6)
          .map(([reason, count]) => `${reason}×${count}`)
          .join(', ');
        return { status: 'ok', summary: `${items.length} events: ${top}`, data };
      } catch (error) {
        return apiFailure('events', error) as ToolResult<EventDigest>;
      }
    },
  });

  const history = defineTool({
    name: 'k8s_rollout_history',
    description:
      'Rollout history of a Deployment: its ReplicaSets by revision, newest first, with image, creation time and ready replicas.',
    input: z.strictObject({ namespace: namespace.optional(), deployment: name }),
    async run(input): Promise<ToolResult<RolloutHistory>> {
      const ns = nsOf(input.namespace);
      try {
        const deployment = await clients.apps.readNamespacedDeployment({
          name: input.deployment,
          namespace: ns,
        });
        const labels = deployment.spec?.selector.matchLabels ?? {};
        const labelSelector = Object.entries(labels)
          .map(([key, value]) => `${key}=${value}`)
          .join(',');
        const sets = await clients.apps.listNamespacedReplicaSet({
          namespace: ns,
          ...(labelSelector ? { labelSelector } : {}),
        });
        const owned = sets.items.filter(
          (set) =>
            (set.metadata?.ownerReferences ?? []).length === 0 ||
            set.metadata?.ownerReferences?.some(
              (owner) => owner.kind === 'Deployment' && owner.name === input.deployment,
            ),
        );
        const revisions: RolloutRevision[] = owned
          .map((set) => {
            const revision: RolloutRevision = {
              revision: Number(set.metadata?.annotations?.['deployment.kubernetes.io/revision'] ?? 0),
              replicaSet: set.metadata?.name ?? '',
              replicas: set.status?.replicas ?? 0,
              readyReplicas: set.status?.readyReplicas ?? 0,
            };
            const image = set.spec?.template?.spec?.containers[0]?.image;
            if (image) revision.image = image;
            const created = ms(set.metadata?.creationTimestamp);
            if (created !== undefined) revision.createdAt = created;
            const cause = set.metadata?.annotations?.['kubernetes.io/change-cause'];
            if (cause) revision.changeCause = cause;
            return revision;
          })
          .sort((a, b) => b.revision - a.revision);
        const current = Number(
          deployment.metadata?.annotations?.['deployment.kubernetes.io/revision'] ??
            revisions[0]?.revision ??
            0,
        );
        const data: RolloutHistory = {
          deployment: input.deployment,
          namespace: ns,
          currentRevision: current,
          revisions,
        };
        const shown = revisions
          .slice(0, 3)
          .map(
            (r) =>
              `rev ${r.revision} ${r.image ?? '?'} at ${r.createdAt ? new Date(r.createdAt).toISOString() : '?'}`,
          )
          .join('; ');
        return {
          status: revisions.length ? 'ok' : 'no_data',
          summary: `${input.deployment}: current revision ${current}; ${shown}`,
          data,
        };
      } catch (error) {
        return apiFailure(`rollout history of ${input.deployment}`, error) as ToolResult<RolloutHistory>;
      }
    },
  });

  const analyzeTool = defineTool({
    name: 'k8s_analyze',
    description:
      'Run the built-in Kubernetes analyzers (CrashLoopBackOff, OOMKilled, ImagePullBackOff, Pending, probes, evictions, node conditions, replica mismatch) over a namespace now.',
    input: z.strictObject({ namespace: namespace.optional(), labelSelector: z.string().max(256).optional() }),
    async run(
      input,
      context,
    ): Promise<
      ToolResult<{ findings: Array<{ kind: string; object: string; message: string; reason?: string }> }>
    > {
      const ns = nsOf(input.namespace);
      try {
        const selector = input.labelSelector ? { labelSelector: input.labelSelector } : {};
        const [pods, events, nodes, deployments, replicaSets] = await Promise.all([
          clients.core.listNamespacedPod({ namespace: ns, ...selector }),
          clients.core.listNamespacedEvent({ namespace: ns }),
          clients.core.listNode(),
          clients.apps.listNamespacedDeployment({ namespace: ns, ...selector }),
          clients.apps.listNamespacedReplicaSet({ namespace: ns, ...selector }),
        ]);
        const snapshot: ClusterSnapshot = {
          pods: pods.items,
          events: events.items,
          nodes: nodes.items,
          deployments: deployments.items,
          replicaSets: replicaSets.items,
        };
        const findings = analyze(snapshot, context.now).map((finding) => ({
          kind: finding.kind,
          object: `${finding.object.kind}/${finding.object.name}`,
          message: finding.message.slice(0, 300),
          ...(finding.owner ? { owner: `${finding.owner.kind}/${finding.owner.name}` } : {}),
          ...(finding.reason ? { reason: finding.reason } : {}),
        }));
        if (findings.length === 0)
          return { status: 'no_data', summary: `no analyzer findings in ${ns}`, data: { findings } };
        const kinds = [...new Set(findings.map((finding) => `${finding.kind} ${finding.object}`))].slice(
          0,
          8,
        );
        return {
          status: 'ok',
          summary: `${findings.length} findings: ${kinds.join('; ')}`,
          data: { findings },
        };
      } catch (error) {
        return apiFailure(`analyze ${ns}`, error) as ToolResult<{
          findings: Array<{ kind: string; object: string; message: string }>;
        }>;
      }
    },
  });

  return [get, list, logs, events, history, analyzeTool] as ReadOnlyTool[];
}
