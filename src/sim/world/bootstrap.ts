import { R, type Cluster } from './cluster.js';
import { rfc3339, type KubeObject } from './kube-object.js';
import type { ServiceModel } from './model.js';
import { REVISION, reconcileAll } from './rollout.js';
import {
  buildTemplate,
  configMapName,
  initialConfigData,
  templateHash,
  type PodTemplate,
} from './templates.js';

const DAY = 86_400_000;

/** The image one release before `image` (patch − 1), as the estate's previous revision runs. */
export function previousImage(image: string): string {
  const match = /^(.*):v?(\d+)\.(\d+)\.(\d+)$/.exec(image);
  if (!match) return `${image}-prev`;
  const [, name, major, minor, patch] = match;
  if (Number(patch) > 0) return `${name}:${major}.${minor}.${Number(patch) - 1}`;
  if (Number(minor) > 0) return `${name}:${major}.${Number(minor) - 1}.9`;
  return `${name}:${major}.${minor}.${patch}-rc.1`;
}

/** The image one release after `image`: minor + 1 for a new feature, patch + 1 for a fix. */
export function nextImage(image: string, part: 'minor' | 'patch' = 'patch'): string {
  const match = /^(.*):v?(\d+)\.(\d+)\.(\d+)$/.exec(image);
  if (!match) return `${image}-next`;
  const [, name, major, minor, patch] = match;
  return part === 'minor'
    ? `${name}:${major}.${Number(minor) + 1}.0`
    : `${name}:${major}.${minor}.${Number(patch) + 1}`;
}

function meta(
  cluster: Cluster,
  name: string,
  at: number,
  extra: Record<string, unknown> = {},
): KubeObject['metadata'] {
  return { name, uid: cluster.uid(), creationTimestamp: rfc3339(at), ...extra };
}

function nodeObject(
  cluster: Cluster,
  node: Cluster['host']['estate']['nodes'][number],
  at: number,
  index: number,
): KubeObject {
  const stamp = rfc3339(at);
  const condition = (
    type: string,
    status: string,
    reason: string,
    message: string,
  ): Record<string, unknown> => ({
    type,
    status,
    reason,
    message,
    lastHeartbeatTime: stamp,
    lastTransitionTime: stamp,
  });
  const zone =
    node.zone ?? `${cluster.host.estate.cluster ?? cluster.host.estate.name}-${'abc'[index % 3] ?? 'a'}`;
  const capacity = {
    cpu: String(node.cpu),
    memory: `${node.memoryGi}Gi`,
    pods: '110',
    'ephemeral-storage': '100Gi',
  };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: meta(cluster, node.name, at, {
      labels: {
        'kubernetes.io/hostname': node.name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'node.kubernetes.io/instance-type': `standard-${node.cpu}`,
        'topology.kubernetes.io/zone': zone,
        ...(node.labels ?? {}),
      },
    }),
    spec: { podCIDR: `10.244.${index}.0/24`, providerID: `sim://${node.name}` },
    status: {
      capacity,
      allocatable: { ...capacity, cpu: `${node.cpu * 1000 - 100}m` },
      conditions: [
        condition(
          'MemoryPressure',
          'False',
          'KubeletHasSufficientMemory',
          'kubelet has sufficient memory available',
        ),
        condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
        condition('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
        condition('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
      ],
      addresses: [
        { type: 'InternalIP', address: cluster.nodeIp(node.name) },
        { type: 'Hostname', address: node.name },
      ],
      nodeInfo: {
        kubeletVersion: 'v1.30.4',
        kubeProxyVersion: 'v1.30.4',
        containerRuntimeVersion: 'containerd://1.7.20',
        osImage: 'Ubuntu 22.04.4 LTS',
        kernelVersion: '6.5.0-1025',
        operatingSystem: 'linux',
        architecture: 'amd64',
      },
    },
  };
}

function serviceObject(cluster: Cluster, model: ServiceModel, at: number, index: number): KubeObject {
  const labels = { app: model.name, 'app.kubernetes.io/name': model.name };
  if (model.workload === 'none') {
    return {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(cluster, model.name, at, { namespace: model.namespace, labels }),
      spec: { type: 'ExternalName', externalName: `${model.name}.example.com`, sessionAffinity: 'None' },
      status: { loadBalancer: {} },
    };
  }
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(cluster, model.name, at, { namespace: model.namespace, labels }),
    spec: {
      type: 'ClusterIP',
      clusterIP: `10.96.${Math.floor(index / 200)}.${10 + (index % 200)}`,
      clusterIPs: [`10.96.${Math.floor(index / 200)}.${10 + (index % 200)}`],
      selector: { app: model.name },
      ports: [{ name: model.portName, port: model.port, targetPort: model.port, protocol: 'TCP' }],
      sessionAffinity: 'None',
      ipFamilies: ['IPv4'],
    },
    status: { loadBalancer: {} },
  };
}

function configMapObject(
  cluster: Cluster,
  model: ServiceModel,
  data: Record<string, string>,
  at: number,
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: meta(cluster, configMapName(model.name, data), at, {
      namespace: model.namespace,
      labels: { app: model.name },
    }),
    data,
  };
}

function workloadObject(
  cluster: Cluster,
  model: ServiceModel,
  template: PodTemplate,
  at: number,
): KubeObject {
  const labels = {
    app: model.name,
    'app.kubernetes.io/name': model.name,
    tier: model.tier,
    ...(model.spec.owner ? { team: model.spec.owner } : {}),
  };
  const common = {
    replicas: model.replicas,
    selector: { matchLabels: { app: model.name } },
    template,
    revisionHistoryLimit: 10,
  };
  if (model.workload === 'StatefulSet') {
    return {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: meta(cluster, model.name, at, { namespace: model.namespace, labels, generation: 1 }),
      spec: {
        ...common,
        serviceName: model.name,
        podManagementPolicy: 'OrderedReady',
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
      },
      status: { replicas: 0 },
    };
  }
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(cluster, model.name, at, {
      namespace: model.namespace,
      labels,
      generation: 1,
      annotations: { [REVISION]: '1' },
    }),
    spec: {
      ...common,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      progressDeadlineSeconds: 600,
    },
    status: {},
  };
}

function previousReplicaSet(
  cluster: Cluster,
  deployment: KubeObject,
  template: PodTemplate,
  at: number,
): KubeObject {
  const hash = templateHash(template);
  const rsTemplate: PodTemplate = {
    ...template,
    metadata: { ...template.metadata, labels: { ...template.metadata.labels, 'pod-template-hash': hash } },
  };
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: meta(cluster, `${deployment.metadata.name}-${hash}`, at, {
      namespace: deployment.metadata.namespace,
      generation: 2,
      labels: { ...rsTemplate.metadata.labels },
      annotations: {
        'deployment.kubernetes.io/desired-replicas': String(
          (deployment.spec as { replicas?: number }).replicas ?? 1,
        ),
        'deployment.kubernetes.io/max-replicas': String(
          Number((deployment.spec as { replicas?: number }).replicas ?? 1) + 1,
        ),
        [REVISION]: '1',
      },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          name: deployment.metadata.name,
          uid: deployment.metadata.uid ?? '',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    }),
    spec: {
      replicas: 0,
      selector: { matchLabels: { app: deployment.metadata.name, 'pod-template-hash': hash } },
      template: rsTemplate,
    },
    status: { replicas: 0, observedGeneration: 2 },
  };
}

function jobObject(cluster: Cluster, model: ServiceModel, template: PodTemplate, at: number): KubeObject {
  const name = `${model.name}-${Math.floor(at / 1000)}`;
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: meta(cluster, name, at, { namespace: model.namespace, labels: { app: model.name } }),
    spec: {
      parallelism: 1,
      completions: 1,
      backoffLimit: 6,
      template: { ...template, spec: { ...template.spec, restartPolicy: 'Never' } },
    },
    status: {
      succeeded: 1,
      startTime: rfc3339(at),
      completionTime: rfc3339(at + 840_000),
      conditions: [
        {
          type: 'Complete',
          status: 'True',
          lastProbeTime: rfc3339(at + 840_000),
          lastTransitionTime: rfc3339(at + 840_000),
        },
      ],
    },
  };
}

function hpaObject(cluster: Cluster, model: ServiceModel, at: number): KubeObject | undefined {
  const hpa = model.spec.hpa;
  if (!hpa || model.workload === 'none' || model.workload === 'Job') return undefined;
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: meta(cluster, model.name, at, { namespace: model.namespace, labels: { app: model.name } }),
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: model.workload, name: model.name },
      minReplicas: hpa.minReplicas,
      maxReplicas: hpa.maxReplicas,
      metrics: [
        {
          type: 'Resource',
          resource: {
            name: 'cpu',
            target: { type: 'Utilization', averageUtilization: hpa.targetCpuPercent },
          },
        },
      ],
    },
    status: { currentReplicas: model.replicas, desiredReplicas: model.replicas, currentMetrics: [] },
  };
}

/**
 * Builds the estate's objects as a cluster that has run for a while: namespaces and nodes from
 * a month ago, each Deployment on revision 2 (revision 1 ran the previous image), pods started
 * two days ago and ready, a completed run of each job. Events of that history are dropped (the
 * API server keeps events for an hour).
 */
export function bootstrapCluster(cluster: Cluster, startMs: number): void {
  const { estate, models } = cluster.host;
  const longAgo = startMs - 30 * DAY;
  cluster.timeOverride = longAgo;
  const namespaces = new Set([
    'default',
    'kube-system',
    'kube-public',
    'kube-node-lease',
    ...[...models.values()].map((model) => model.namespace),
  ]);
  for (const namespace of [...namespaces].sort()) {
    cluster.store.create(R.namespaces, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: meta(cluster, namespace, longAgo, { labels: { 'kubernetes.io/metadata.name': namespace } }),
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    });
  }
  estate.nodes.forEach((node, index) =>
    cluster.store.create(R.nodes, nodeObject(cluster, node, longAgo, index)),
  );
  const deployedAt = startMs - 2 * DAY;
  [...models.values()].forEach((model, index) => {
    // A batch job serves nothing, so it has no Service (one would never have endpoints).
    if (model.kind !== 'job') cluster.store.create(R.services, serviceObject(cluster, model, longAgo, index));
    if (model.workload === 'none') return;
    const data = initialConfigData(model);
    const configMap = configMapObject(cluster, model, data, longAgo);
    cluster.store.create(R.configmaps, configMap);
    const template = buildTemplate(model, estate, configMap.metadata.name);
    if (model.workload === 'Job') {
      cluster.store.create(R.jobs, jobObject(cluster, model, template, startMs - 3 * 3_600_000));
      return;
    }
    const workload = workloadObject(cluster, model, template, longAgo);
    if (model.workload === 'Deployment') {
      cluster.store.create(R.deployments, workload);
      const oldTemplate = buildTemplate(model, estate, configMap.metadata.name, previousImage(model.image));
      cluster.store.create(
        R.replicasets,
        previousReplicaSet(cluster, workload, oldTemplate, startMs - 9 * DAY),
      );
    } else {
      cluster.store.create(R.statefulsets, workload);
    }
    const hpa = hpaObject(cluster, model, longAgo);
    if (hpa) cluster.store.create(R.hpas, hpa);
  });
  for (let step = 0; step < 12; step++) {
    cluster.timeOverride = deployedAt + step * 10_000;
    reconcileAll(cluster);
  }
  cluster.timeOverride = undefined;
  for (const event of cluster.store.list(R.events))
    cluster.store.delete(R.events, event.metadata.namespace, event.metadata.name);
}
