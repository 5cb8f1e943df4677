import { ValidationError } from '../../shared/errors.js';
import { R } from './cluster.js';
import type { DeployChange } from './faults/fault-model.js';
import { cloneJson, rfc3339 } from './kube-object.js';
import { commitDeploy, pickAuthor, emailOf } from './repositories.js';
import { REVISION, reconcileAll } from './rollout.js';
import { configMapName, configMapOf, imageOf, type PodTemplate } from './templates.js';
import type { World } from './world.js';

function workloadResource(world: World, service: string): string {
  const model = world.models.get(service);
  if (!model || (model.workload !== 'Deployment' && model.workload !== 'StatefulSet')) {
    throw new ValidationError('deploy', [
      { path: 'service', message: `"${service}" has no Deployment or StatefulSet to deploy` },
    ]);
  }
  return model.workload === 'Deployment' ? R.deployments : R.statefulsets;
}

function applyConfig(
  world: World,
  service: string,
  template: PodTemplate,
  config: Record<string, string>,
): string {
  const model = world.models.get(service);
  const container = template.spec.containers[0];
  if (!model || !container) return '';
  const current = configMapOf(template);
  const currentData =
    (current
      ? (world.cluster.store.get(R.configmaps, model.namespace, current)?.data as
          Record<string, string> | undefined)
      : undefined) ?? {};
  const data = { ...currentData, ...config };
  const name = configMapName(service, data);
  if (!world.cluster.store.get(R.configmaps, model.namespace, name)) {
    world.cluster.store.create(R.configmaps, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name,
        namespace: model.namespace,
        uid: world.cluster.uid(),
        creationTimestamp: rfc3339(world.now()),
        labels: { app: service },
      },
      data,
    });
  }
  container.envFrom = [{ configMapRef: { name } }];
  return name;
}

/**
 * Deploys a change to a service the way a CI pipeline would: a new versioned ConfigMap when
 * config changes, a commit in the service's repository, the new pod template on its workload
 * (a new ReplicaSet revision), a `deploy` event and notification.
 */
export async function deployChange(world: World, service: string, change: DeployChange): Promise<void> {
  const resource = workloadResource(world, service);
  const model = world.models.get(service);
  const before = world.cluster.workload(service);
  if (!model || !before) return;
  const template = cloneJson((before.spec as { template: PodTemplate }).template);
  const previousImage = imageOf(template);
  const container = template.spec.containers[0];
  if (change.image && container) container.image = change.image;
  const configMap = change.config ? applyConfig(world, service, template, change.config) : undefined;
  change.mutate?.(template);
  change.onTemplate?.(template);
  const image = imageOf(template);
  const author = change.author ?? pickAuthor(world);
  const message =
    change.message ??
    (image !== previousImage
      ? `Release ${image.split(':').pop() ?? image}`
      : `Update ${service} configuration`);
  const commit = world.repos
    ? await commitDeploy(world, world.repos, model, image, message, author, change.files)
    : undefined;

  const current = world.cluster.workload(service) ?? before;
  world.cluster.store.put(resource, {
    ...current,
    metadata: {
      ...current.metadata,
      generation: (current.metadata.generation ?? 1) + 1,
      annotations: { ...current.metadata.annotations, 'kubernetes.io/change-cause': message },
    },
    spec: { ...(current.spec as object), template },
  });
  world.recordRollout(service);
  reconcileAll(world.cluster);
  const revision =
    Number(world.cluster.workload(service)?.metadata.annotations?.[REVISION] ?? 0) || undefined;
  const tags = [
    `service:${service}`,
    `env:${model.environment}`,
    `version:${image.split(':').pop() ?? ''}`,
    `kube_namespace:${model.namespace}`,
  ];
  if (configMap) {
    world.recordEvent({
      title: `ConfigMap ${configMap} created for ${service}`,
      text: `${author} changed ${Object.keys(change.config ?? {}).join(', ')} of ${service}`,
      service,
      source: 'config',
      severity: 'info',
      tags,
    });
  }
  world.recordEvent({
    title: `Deployed ${service} ${image}`,
    text: `${author}: ${message}${revision ? ` (revision ${revision})` : ''}${commit ? ` commit ${commit.sha.slice(0, 12)}` : ''}`,
    service,
    source: 'deploy',
    severity: 'info',
    tags,
  });
  world.emit('deploy', {
    service,
    image,
    ...(previousImage !== image ? { previousImage } : {}),
    ...(configMap ? { configMap } : {}),
    ...(model.repo ? { repo: model.repo } : {}),
    ...(model.repo && world.repos ? { repoPath: world.repos.path(model.repo) } : {}),
    ...(commit
      ? {
          sha: commit.sha,
          files: commit.files,
          ...(commit.previousSha ? { previousSha: commit.previousSha } : {}),
        }
      : {}),
    message,
    author,
    authorEmail: emailOf(world, author),
    ...(revision ? { revision } : {}),
    t: world.now(),
  });
  world.afterChange();
}
