import type { TimelineEntry } from '../scenario/scenario-schema.js';
import { nextImage } from './bootstrap.js';
import { R } from './cluster.js';
import { cordonPatch, previousCodeRevision, restartPatch, rollbackPatch } from './kubectl.js';
import type { World } from './world.js';

type TimelineAction = NonNullable<TimelineEntry['action']>;

/**
 * Applies a timeline `action:` through the same Kubernetes and flag paths nightshift would use,
 * as a careful operator would: a rollback goes to the newest revision with different code.
 */
export function applyTimelineAction(world: World, action: TimelineAction): void {
  const model = world.models.get(action.target);
  const options = { via: 'timeline' };
  switch (action.kind) {
    case 'k8s.rollback': {
      const deployment = world.kube.get(R.deployments, model?.namespace, action.target);
      const patch = rollbackPatch(
        world.cluster,
        deployment,
        previousCodeRevision(world.cluster, deployment) ?? 0,
      );
      world.kube.patch(R.deployments, model?.namespace, action.target, patch, 'json', options);
      return;
    }
    case 'k8s.rolloutRestart':
      world.kube.patch(
        model?.workload === 'StatefulSet' ? R.statefulsets : R.deployments,
        model?.namespace,
        action.target,
        restartPatch(world.now()),
        'strategic',
        options,
      );
      return;
    case 'k8s.scale':
      world.kube.patchScale(
        model?.workload === 'StatefulSet' ? R.statefulsets : R.deployments,
        model?.namespace,
        action.target,
        { spec: { replicas: action.replicas ?? (model?.replicas ?? 1) * 2 } },
        'merge',
        options,
      );
      return;
    case 'k8s.deletePod': {
      const pod = action.pod ?? world.activePods(action.target)[0]?.name;
      if (pod) world.kube.delete(R.pods, model?.namespace, pod, options);
      return;
    }
    case 'k8s.cordonNode':
      world.kube.patch(R.nodes, undefined, action.target, cordonPatch(true), 'strategic', options);
      return;
    case 'flags.set': {
      const current = world.flags.get(action.target)?.value;
      world.flags.set(
        action.target,
        action.value ?? (typeof current === 'boolean' ? !current : (current ?? false)),
        { actor: action.by, via: 'timeline' },
      );
      return;
    }
    case 'github.openPullRequest':
      world.recordAction({
        kind: action.kind,
        target: action.target,
        via: 'timeline',
        details: { by: action.by },
      });
      return;
  }
}

/** Runs one timeline entry at its time. A failing entry is logged; the world goes on. */
export async function runTimelineEntry(world: World, entry: TimelineEntry): Promise<void> {
  const now = world.now();
  try {
    if (entry.deploy) {
      const current = world.services().find((service) => service.name === entry.deploy?.service)?.image ?? '';
      await world.deploy(entry.deploy.service, {
        image: entry.deploy.image ?? nextImage(current),
        ...(entry.deploy.message ? { message: entry.deploy.message } : {}),
        ...(entry.deploy.author ? { author: entry.deploy.author } : {}),
        ...(entry.deploy.files
          ? {
              files: Object.fromEntries(
                entry.deploy.files.map((file) => [
                  file,
                  `// changed for ${entry.deploy?.image ?? 'the next release'}\n`,
                ]),
              ),
            }
          : {}),
      });
    } else if (entry.fault) {
      await world.startFault(entry.fault);
    } else if (entry.slack) {
      world.emit('slack', { ...entry.slack, t: now });
    } else if (entry.logs) {
      world.addScenarioLogs(entry.logs.service, entry.logs.lines, entry.logs.level, entry.logs.pod);
    } else if (entry.alert) {
      world.emit('alert', { source: entry.alert.source, body: entry.alert.body ?? {}, t: now });
    } else if (entry.action) {
      applyTimelineAction(world, entry.action);
    }
  } catch (error) {
    world.reportFailure(`timeline entry at ${entry.at} ms`, error);
  }
}
