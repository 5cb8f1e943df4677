import { describe, expect, it } from 'vitest';
import {
  NOW,
  deploymentFrom,
  podOfDeployment,
  podOfJob,
  jobFrom,
  replicaSetFor,
  type Manifest,
} from '../../../test/fixtures/detect/cluster.js';
import { createAnalysisContext } from './context.js';
import { podOwner } from './owner.js';
import type { ClusterSnapshot, Pod } from './snapshot.js';

const deploymentManifest: Manifest = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web-frontend', namespace: 'shop' },
  spec: {
    selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: { containers: [{ name: 'web', image: 'shop/web:1' }] },
    },
  },
};

const owner = (pod: Pod, snapshot: ClusterSnapshot = {}) =>
  podOwner(pod, createAnalysisContext(snapshot, NOW));

describe('podOwner', () => {
  const deployment = deploymentFrom(deploymentManifest);
  const pod = podOfDeployment(deployment);

  it('resolves a ReplicaSet to its Deployment through the ReplicaSet in the snapshot', () => {
    expect(owner(pod, { replicaSets: [replicaSetFor(deployment)] })).toEqual({
      kind: 'Deployment',
      name: 'web-frontend',
    });
  });

  it('strips the pod-template-hash when the ReplicaSet is not in the snapshot', () => {
    expect(owner(pod)).toEqual({ kind: 'Deployment', name: 'web-frontend' });
  });

  it('keeps a bare ReplicaSet (no hash label, not in the snapshot) as the owner', () => {
    const bare = { ...pod, metadata: { ...pod.metadata, labels: { app: 'web' } } };
    expect(owner(bare)).toEqual({ kind: 'ReplicaSet', name: replicaSetFor(deployment).metadata?.name });
  });

  it('resolves a Job pod to the CronJob that owns the Job', () => {
    const job = jobFrom({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'report-29031840', namespace: 'shop' },
      spec: { template: { spec: { containers: [{ name: 'r', image: 'r' }] } } },
    });
    const owned = {
      ...job,
      metadata: {
        ...job.metadata,
        ownerReferences: [
          { apiVersion: 'batch/v1', kind: 'CronJob', name: 'report', uid: 'u', controller: true },
        ],
      },
    };
    const jobPod = podOfJob(job);
    expect(owner(jobPod)).toEqual({ kind: 'Job', name: 'report-29031840' });
    expect(owner(jobPod, { jobs: [owned] })).toEqual({ kind: 'CronJob', name: 'report' });
  });

  it('returns other controllers as they are, and nothing for a bare pod', () => {
    const statefulPod = {
      ...pod,
      metadata: {
        ...pod.metadata,
        ownerReferences: [
          { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db', uid: 'u', controller: true },
        ],
      },
    };
    expect(owner(statefulPod)).toEqual({ kind: 'StatefulSet', name: 'db' });
    expect(owner({ metadata: { name: 'bare', namespace: 'shop' } })).toBeUndefined();
  });
});
