import { describe, expect, it } from 'vitest';
import {
  clusterId,
  commitId,
  containerId,
  deployId,
  flagId,
  graphId,
  k8sId,
  namespaceId,
  nodeId,
  pullRequestId,
  repoId,
  serviceId,
} from './ids.js';

describe('graph ids', () => {
  it('builds Kubernetes ids, namespaced and cluster-scoped', () => {
    expect(k8sId('prod', 'shop', 'Deployment', 'checkout')).toBe('k8s:prod/shop/Deployment/checkout');
    expect(k8sId('prod', null, 'Node', 'n1')).toBe('k8s:prod/Node/n1');
    expect(nodeId('prod', 'n1')).toBe('k8s:prod/Node/n1');
    expect(namespaceId('prod', 'shop')).toBe('k8s:prod/Namespace/shop');
    expect(clusterId('prod')).toBe('k8s:prod');
    expect(containerId(k8sId('prod', 'shop', 'Pod', 'p'), 'app')).toBe('k8s:prod/shop/Pod/p/Container/app');
  });

  it('builds code and change ids', () => {
    expect(repoId('GitHub.com', 'acme/shop')).toBe('repo:github.com/acme/shop');
    expect(commitId('github.com', 'acme/shop', 'ABC123')).toBe('commit:github.com/acme/shop@abc123');
    expect(pullRequestId('github.com', 'acme/shop', 42)).toBe('pr:github.com/acme/shop#42');
    expect(deployId('k8s:prod/shop/Deployment/checkout', 7)).toBe(
      'deploy:k8s:prod/shop/Deployment/checkout@7',
    );
    expect(serviceId('checkout')).toBe('service:checkout');
  });

  it('escapes / and % inside a part so ids stay unambiguous', () => {
    expect(flagId('launchdarkly', 'checkout/new')).toBe('flag:launchdarkly/checkout%2Fnew');
    expect(graphId('x', 'a%2F', 'b')).toBe('x:a%252F/b');
    expect(flagId('a', 'b/c')).not.toBe(flagId('a/b', 'c'));
    expect(() => graphId('x', '')).toThrow('empty');
  });
});
