import { describe, expect, it } from 'vitest';
import { KubeApiError } from './kube-errors.js';
import { applyJsonPatch, applyMergePatch, applyStrategicPatch, patchTypeOf } from './patch.js';

const deployment = {
  metadata: { name: 'web', labels: { app: 'web' }, annotations: { a: '1' } },
  spec: {
    replicas: 2,
    template: {
      spec: {
        containers: [
          { name: 'web', image: 'web:1', env: [{ name: 'A', value: '1' }], ports: [{ containerPort: 80 }] },
          { name: 'sidecar', image: 'proxy:1' },
        ],
      },
    },
  },
};

function statusOf(run: () => unknown): number {
  try {
    run();
  } catch (error) {
    if (error instanceof KubeApiError) return error.code;
    throw error;
  }
  return 200;
}

describe('patches', () => {
  it('reads the patch type from the content type', () => {
    expect(patchTypeOf('application/json-patch+json')).toBe('json');
    expect(patchTypeOf('application/merge-patch+json; charset=utf-8')).toBe('merge');
    expect(patchTypeOf('application/strategic-merge-patch+json')).toBe('strategic');
    expect(patchTypeOf('application/apply-patch+yaml')).toBeUndefined();
  });

  it('applies RFC 6902 operations and refuses a non-array body with 400, a failed operation with 422', () => {
    const patched = applyJsonPatch(deployment, [
      { op: 'replace', path: '/spec/replicas', value: 5 },
      { op: 'add', path: '/metadata/labels/tier', value: 'front' },
      { op: 'remove', path: '/metadata/annotations/a' },
      { op: 'add', path: '/spec/template/spec/containers/-', value: { name: 'x', image: 'x:1' } },
      { op: 'test', path: '/spec/replicas', value: 5 },
    ]) as typeof deployment;
    expect(patched.spec.replicas).toBe(5);
    expect(patched.metadata).toEqual({ name: 'web', labels: { app: 'web', tier: 'front' }, annotations: {} });
    expect(patched.spec.template.spec.containers.map((container) => container.name)).toEqual([
      'web',
      'sidecar',
      'x',
    ]);
    expect(deployment.spec.replicas).toBe(2);
    expect(statusOf(() => applyJsonPatch(deployment, { spec: { replicas: 5 } }))).toBe(400);
    expect(
      statusOf(() => applyJsonPatch(deployment, [{ op: 'replace', path: '/spec/missing/x', value: 1 }])),
    ).toBe(422);
    expect(
      statusOf(() => applyJsonPatch(deployment, [{ op: 'test', path: '/spec/replicas', value: 3 }])),
    ).toBe(422);
  });

  it('merges RFC 7386 patches (null deletes, lists replace) and refuses an array body', () => {
    const patched = applyMergePatch(deployment, {
      metadata: { annotations: { a: null, b: '2' } },
      spec: { template: { spec: { containers: [{ name: 'only', image: 'o:1' }] } } },
    }) as typeof deployment;
    expect(patched.metadata.annotations).toEqual({ b: '2' });
    expect(patched.spec.template.spec.containers).toEqual([{ name: 'only', image: 'o:1' }]);
    expect(statusOf(() => applyMergePatch(deployment, [{ op: 'replace' }]))).toBe(400);
  });

  it('merges strategic patches: containers by name, ports by containerPort, $patch directives', () => {
    const patched = applyStrategicPatch(deployment, {
      spec: {
        template: {
          metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': 'now' } },
          spec: {
            containers: [
              { name: 'web', image: 'web:2', env: [{ name: 'B', value: '2' }] },
              { name: 'sidecar', $patch: 'delete' },
            ],
          },
        },
      },
    }) as typeof deployment & { spec: { template: { metadata: { annotations: Record<string, string> } } } };
    expect(patched.spec.template.metadata.annotations).toEqual({
      'kubectl.kubernetes.io/restartedAt': 'now',
    });
    expect(patched.spec.template.spec.containers).toEqual([
      {
        name: 'web',
        image: 'web:2',
        env: [
          { name: 'A', value: '1' },
          { name: 'B', value: '2' },
        ],
        ports: [{ containerPort: 80 }],
      },
    ]);
    const replaced = applyStrategicPatch(deployment, {
      metadata: { labels: { $patch: 'replace', only: 'this' } },
    }) as typeof deployment;
    expect(replaced.metadata.labels).toEqual({ only: 'this' });
    expect(statusOf(() => applyStrategicPatch(deployment, [1, 2]))).toBe(400);
  });
});
