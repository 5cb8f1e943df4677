import { describe, expect, it } from 'vitest';
import { NOW, imagePullFailing, podFrom, type Manifest } from '../../../test/fixtures/detect/cluster.js';
import { crashPodScenario, imagePullBackOffScenario } from '../../../test/fixtures/detect/scenarios.js';
import { analyze } from './analyze.js';
import { classifyPullFailure, imagePullAnalyzer } from './image-pull.js';
import type { ClusterSnapshot } from './snapshot.js';

const run = (snapshot: ClusterSnapshot) => analyze(snapshot, NOW, { analyzers: [imagePullAnalyzer] });

describe('image-pull analyzer', () => {
  it('image_pull_backoff: every replica, one stable kind whether backing off or erroring', () => {
    const { snapshot, pods } = imagePullBackOffScenario();
    const findings = run(snapshot);
    expect(findings.map((finding) => finding.object.name)).toEqual(pods.map((pod) => pod.metadata?.name));
    expect(findings.map((finding) => finding.reason)).toEqual([
      'ImagePullBackOff',
      'ErrImagePull',
      'ImagePullBackOff',
    ]);
    for (const finding of findings) {
      expect(finding).toMatchObject({
        kind: 'ImagePullBackOff',
        severity: 'warning',
        owner: { kind: 'Deployment', name: 'customer-relations-webapp' },
        evidence: { image: 'yourcompany/crw:latest', cause: 'not-found-or-access-denied' },
      });
      expect(finding.message).toContain('yourcompany/crw:latest');
      expect(finding.evidence['containers']).toEqual([
        expect.objectContaining({
          name: 'crw-main-container',
          pullError: expect.stringContaining('pull access denied') as unknown,
        }),
      ]);
    }
  });

  it('the fingerprint does not change when the waiting reason alternates', () => {
    const { snapshot, pods } = imagePullBackOffScenario();
    const [first] = pods;
    if (!first) throw new Error('scenario has pods');
    const flipped = imagePullFailing(first, 'ErrImagePull', 'rpc error: code = NotFound');
    const before = run({ ...snapshot, pods: [first] })[0];
    const after = run({ ...snapshot, pods: [flipped] })[0];
    expect(before?.reason).toBe('ImagePullBackOff');
    expect(after?.reason).toBe('ErrImagePull');
    expect(after?.fingerprint).toBe(before?.fingerprint);
  });

  it('includes init containers and keeps InvalidImageName separate', () => {
    const manifest: Manifest = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'migrate', namespace: 'shop' },
      spec: {
        initContainers: [{ name: 'schema', image: 'registry.internal:5000/shop/schema:v7' }],
        containers: [{ name: 'app', image: 'shop/app:v7' }],
      },
    };
    const pod = podFrom(manifest);
    const withStatus = {
      ...pod,
      status: {
        phase: 'Pending',
        initContainerStatuses: [
          {
            name: 'schema',
            image: 'registry.internal:5000/shop/schema:v7',
            imageID: '',
            ready: false,
            restartCount: 0,
            state: {
              waiting: {
                reason: 'ErrImagePull',
                message:
                  'failed to pull and unpack image "registry.internal:5000/shop/schema:v7": failed to resolve reference "registry.internal:5000/shop/schema:v7": failed to do request: Head "https://registry.internal:5000/v2/shop/schema/manifests/v7": dial tcp 10.0.4.2:5000: connect: connection refused',
              },
            },
          },
        ],
        containerStatuses: [
          {
            name: 'app',
            image: 'shop/app:v7',
            imageID: '',
            ready: false,
            restartCount: 0,
            state: { waiting: { reason: 'InvalidImageName', message: 'Failed to apply default image tag' } },
          },
        ],
      },
    };
    const findings = run({ pods: [withStatus] });
    expect(findings.map((finding) => [finding.kind, finding.reason, finding.evidence['cause']])).toEqual([
      ['ImagePullBackOff', 'ErrImagePull', 'network'],
      ['InvalidImageName', 'InvalidImageName', 'unknown'],
    ]);
    expect(findings[0]?.evidence['containers']).toEqual([expect.objectContaining({ init: true })]);
  });

  it('finds nothing for crashpod/healthy', () => {
    expect(run(crashPodScenario('healthy').snapshot)).toEqual([]);
  });
});

describe('classifyPullFailure', () => {
  it.each([
    [
      'failed to resolve reference "docker.io/library/nginx:1.99": docker.io/library/nginx:1.99: not found',
      'not-found',
    ],
    [
      'GET https://registry-1.docker.io/v2/library/nginx/manifests/1.99: MANIFEST_UNKNOWN: manifest unknown',
      'not-found',
    ],
    [
      'pull access denied, repository does not exist or may require authorization',
      'not-found-or-access-denied',
    ],
    [
      'failed to authorize: failed to fetch anonymous token: unexpected status: 401 Unauthorized',
      'access-denied',
    ],
    ['toomanyrequests: You have reached your pull rate limit.', 'rate-limited'],
    ['dial tcp: lookup registry.internal on 10.96.0.10:53: no such host', 'network'],
    ['something unexpected', 'unknown'],
  ])('%s → %s', (text, expected) => {
    expect(classifyPullFailure(text)).toBe(expected);
  });
});
