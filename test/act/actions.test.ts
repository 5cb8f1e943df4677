import * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { executeProposal, type ExecutionResult, type VerifyRequest } from '../../src/act/executor.js';
import { verifyAction } from '../../src/act/verify.js';
import type { Sim } from '../../src/sim/sim.js';
import { deploymentTarget, kubeConfigOf, proposalFor, shopSim, simDeps } from './sim-kit.js';

function executed(result: ExecutionResult): VerifyRequest {
  if (result.status !== 'executed') throw new Error(`expected executed, got ${JSON.stringify(result)}`);
  return result.verify;
}

/** Verify with a checker that never sees health: one check, then undo and escalate. */
async function failVerify(sim: Sim, request: VerifyRequest): Promise<string> {
  const deps = simDeps(sim);
  const result = await verifyAction(request, {
    ...deps,
    check: () => Promise.resolve({ healthy: false, detail: 'still failing' }),
    window: { windowMs: 1, intervalMs: 1, healthyChecks: 1 },
  });
  expect(result.outcome).toBe('escalate');
  return result.undo;
}

function writes(sim: Sim): Array<{ method: string; path: string; contentType?: string }> {
  return sim.world.requestLog.writes().map((entry) => ({
    method: entry.method,
    path: entry.path,
    ...(entry.contentType ? { contentType: entry.contentType } : {}),
  }));
}

describe('the action catalog against the sim Kubernetes API (real @kubernetes/client-node)', () => {
  it('k8s.rollback: kubectl rollout undo semantics, then undo rolls forward', async () => {
    const sim = await shopSim();
    const apps = kubeConfigOf(sim).makeApiClient(k8s.AppsV1Api);
    const before = await apps.readNamespacedDeployment({ name: 'checkout', namespace: 'shop' });
    const sets = await apps.listNamespacedReplicaSet({ namespace: 'shop', labelSelector: 'app=checkout' });
    const revisionOne = sets.items.find(
      (rs) => rs.metadata?.annotations?.['deployment.kubernetes.io/revision'] === '1',
    );
    const oldImage = revisionOne?.spec?.template?.spec?.containers[0]?.image;
    expect(oldImage).toBeTruthy();
    expect(before.spec?.template.spec?.containers[0]?.image).not.toBe(oldImage);

    const result = await executeProposal(
      proposalFor('k8s.rollback', deploymentTarget('checkout')),
      simDeps(sim),
    );
    const request = executed(result);
    if (result.status !== 'executed') throw new Error('unreachable');
    expect(result.plan.observed).toMatchObject({ fromRevision: 2, toRevision: 1 });
    expect(result.plan.changes).toContainEqual({
      path: 'spec.template.spec.containers[checkout].image',
      from: before.spec?.template.spec?.containers[0]?.image,
      to: oldImage,
    });
    const after = await apps.readNamespacedDeployment({ name: 'checkout', namespace: 'shop' });
    expect(after.spec?.template.spec?.containers[0]?.image).toBe(oldImage);
    expect(after.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('3');
    expect(sim.world.actions().at(-1)).toMatchObject({
      kind: 'k8s.rollback',
      target: 'checkout',
      details: { toRevision: 1 },
    });
    expect(writes(sim)).toEqual([
      {
        method: 'PATCH',
        path: '/apis/apps/v1/namespaces/shop/deployments/checkout',
        contentType: 'application/json-patch+json',
      },
    ]);
    expect(request.undo).toEqual({ toRevision: 2 });

    expect(await failVerify(sim, request)).toBe('done');
    const undone = await apps.readNamespacedDeployment({ name: 'checkout', namespace: 'shop' });
    expect(undone.spec?.template.spec?.containers[0]?.image).toBe(
      before.spec?.template.spec?.containers[0]?.image,
    );
    expect(sim.world.actions().at(-1)).toMatchObject({ kind: 'k8s.rollback', details: { toRevision: 2 } });

    // A paused Deployment is refused, as kubectl refuses it.
    await apps.patchNamespacedDeployment(
      { name: 'checkout', namespace: 'shop', body: { spec: { paused: true } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    const writesBefore = sim.world.requestLog.writes().length;
    const paused = await executeProposal(
      proposalFor('k8s.rollback', deploymentTarget('checkout'), {}, 'inc-paused'),
      simDeps(sim),
    );
    expect(paused).toMatchObject({ status: 'blocked' });
    if (paused.status !== 'blocked') throw new Error('unreachable');
    expect(paused.reasons[0]).toContain('not paused');
    expect(sim.world.requestLog.writes()).toHaveLength(writesBefore);
  });

  it('k8s.rolloutRestart: strategic-merge restartedAt on the template; cannot be undone', async () => {
    const sim = await shopSim();
    const request = executed(
      await executeProposal(proposalFor('k8s.rolloutRestart', deploymentTarget('catalog')), simDeps(sim)),
    );
    const apps = kubeConfigOf(sim).makeApiClient(k8s.AppsV1Api);
    const after = await apps.readNamespacedDeployment({ name: 'catalog', namespace: 'shop' });
    expect(after.spec?.template.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt']).toMatch(
      /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/,
    );
    expect(sim.world.actions().at(-1)).toMatchObject({ kind: 'k8s.rolloutRestart', target: 'catalog' });
    expect(writes(sim)).toEqual([
      {
        method: 'PATCH',
        path: '/apis/apps/v1/namespaces/shop/deployments/catalog',
        contentType: 'application/strategic-merge-patch+json',
      },
    ]);
    expect(request.undo).toBeUndefined();
    expect(await failVerify(sim, request)).toBe('not-possible');
    expect(writes(sim)).toHaveLength(1);
  });

  it('k8s.scale: merge patch on the scale subresource, bounded to twice, undo scales back', async () => {
    const sim = await shopSim();
    const deps = simDeps(sim);
    const tooMany = await executeProposal(
      proposalFor('k8s.scale', deploymentTarget('catalog', 2), { replicas: 5 }),
      deps,
    );
    expect(tooMany.status).toBe('blocked');
    const request = executed(
      await executeProposal(
        proposalFor('k8s.scale', deploymentTarget('catalog', 2), { replicas: 4 }, 'inc-2'),
        deps,
      ),
    );
    const apps = kubeConfigOf(sim).makeApiClient(k8s.AppsV1Api);
    const replicas = async (): Promise<number | undefined> =>
      (await apps.readNamespacedDeploymentScale({ name: 'catalog', namespace: 'shop' })).spec?.replicas;
    expect(await replicas()).toBe(4);
    expect(sim.world.actions().at(-1)).toMatchObject({ kind: 'k8s.scale', details: { from: 2, to: 4 } });
    expect(writes(sim)).toEqual([
      {
        method: 'PATCH',
        path: '/apis/apps/v1/namespaces/shop/deployments/catalog/scale',
        contentType: 'application/merge-patch+json',
      },
    ]);
    expect(await failVerify(sim, request)).toBe('done');
    expect(await replicas()).toBe(2);
  });

  it('k8s.deletePod: deletes one owned pod; its controller replaces it', async () => {
    const sim = await shopSim();
    const core = kubeConfigOf(sim).makeApiClient(k8s.CoreV1Api);
    const pods = await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=catalog' });
    const victim = pods.items[0]?.metadata?.name ?? '';
    const target = {
      kind: 'Pod',
      name: victim,
      namespace: 'shop',
      cluster: 'prod-eu1',
      environment: 'staging',
      stateful: false,
    };
    executed(await executeProposal(proposalFor('k8s.deletePod', target), simDeps(sim)));
    expect(sim.world.actions().at(-1)).toMatchObject({ kind: 'k8s.deletePod', details: { pod: victim } });
    const now = await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=catalog' });
    const live = now.items.filter((pod) => !pod.metadata?.deletionTimestamp);
    expect(live.map((pod) => pod.metadata?.name)).not.toContain(victim);
    expect(live).toHaveLength(pods.items.length);
    expect(writes(sim)).toMatchObject([{ method: 'DELETE', path: `/api/v1/namespaces/shop/pods/${victim}` }]);
    expect(writes(sim)).toHaveLength(1);
  });

  it('k8s.cordonNode: strategic-merge spec.unschedulable; undo uncordons', async () => {
    const sim = await shopSim();
    const request = executed(
      await executeProposal(
        proposalFor('k8s.cordonNode', {
          kind: 'Node',
          name: 'node-b',
          cluster: 'prod-eu1',
          environment: 'prod',
        }),
        simDeps(sim),
      ),
    );
    const core = kubeConfigOf(sim).makeApiClient(k8s.CoreV1Api);
    expect((await core.readNode({ name: 'node-b' })).spec?.unschedulable).toBe(true);
    expect(writes(sim)).toEqual([
      {
        method: 'PATCH',
        path: '/api/v1/nodes/node-b',
        contentType: 'application/strategic-merge-patch+json',
      },
    ]);
    expect(await failVerify(sim, request)).toBe('done');
    expect((await core.readNode({ name: 'node-b' })).spec?.unschedulable).toBeFalsy();
    expect(sim.world.actions().map((action) => action.kind)).toEqual(['k8s.cordonNode', 'k8s.uncordonNode']);
  });

  it('flags.set: PUT on the flag provider, type-checked, undo restores the value', async () => {
    const sim = await shopSim();
    const deps = simDeps(sim);
    const flag = { kind: 'FeatureFlag', name: 'new-pricing', environment: 'prod' };
    const wrongType = await executeProposal(proposalFor('flags.set', flag, { value: 'on' }), deps);
    expect(wrongType.status).toBe('blocked');
    const request = executed(
      await executeProposal(proposalFor('flags.set', flag, { value: true }, 'inc-2'), deps),
    );
    expect(sim.world.flags.get('new-pricing')?.value).toBe(true);
    expect(sim.world.actions().at(-1)).toMatchObject({ kind: 'flags.set', target: 'new-pricing' });
    expect(sim.world.requestLog.writes('flags').map((entry) => `${entry.method} ${entry.path}`)).toEqual([
      'PUT /flags/new-pricing',
    ]);
    expect(await failVerify(sim, request)).toBe('done');
    expect(sim.world.flags.get('new-pricing')?.value).toBe(false);
  });
});
