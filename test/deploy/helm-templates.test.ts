import { describe, expect, it } from 'vitest';
import { NON_SETTING_ENV, settings } from '../../src/config/settings.js';
import {
  defaultValues,
  findManifest,
  manifestTemplates,
  renderChart,
  renderManifests,
  renderText,
  validateValues,
  mergeValues,
  type Manifest,
  type Values,
} from './chart.js';
import { TemplateError, TemplateFailure } from './go-template.js';

interface Probe {
  httpGet: { path: string; port: string };
}
interface Container {
  name: string;
  args: string[];
  ports: { name: string; containerPort: number }[];
  env: {
    name: string;
    value?: string;
    valueFrom?: { secretKeyRef: { name: string; key: string; optional: boolean } };
  }[];
  startupProbe: Probe;
  livenessProbe: Probe;
  readinessProbe: Probe;
  securityContext: Record<string, unknown>;
  volumeMounts: { name: string; mountPath: string; subPath?: string; readOnly?: boolean }[];
  resources: { requests?: Record<string, string>; limits?: Record<string, string> };
}
interface PodSpec {
  serviceAccountName: string;
  securityContext: Record<string, unknown>;
  containers: Container[];
  volumes: { name: string; [kind: string]: unknown }[];
}
interface DeploymentManifest extends Manifest {
  spec: {
    replicas: number;
    strategy: { type: string };
    template: { metadata: { annotations: Record<string, string> }; spec: PodSpec };
  };
}
interface NetworkPolicyManifest extends Manifest {
  spec: {
    policyTypes: string[];
    egress: { ports: { port: number | string; protocol: string }[]; to?: Record<string, unknown>[] }[];
    ingress: { ports: { port: number | string }[]; from?: unknown[] }[];
  };
}

/** Everything optional switched on, as a values file a full installation might use. */
const everything: Values = {
  replicaCount: 2,
  actions: { enabled: true },
  policy: { maxMode: 'approval', files: { 'team.yaml': 'apiVersion: nightshift.dev/v1\nkind: Policy\n' } },
  config: { graph: { backend: 'neo4j', neo4j: { uri: 'bolt://neo4j:7687' } } },
  secrets: { existingSecret: 'nightshift-secrets' },
  persistence: { enabled: false },
  metrics: { serviceMonitor: { enabled: true, labels: { release: 'prometheus' } } },
  extraEnv: [{ name: 'NODE_OPTIONS', value: '--max-old-space-size=400' }],
  podAnnotations: { team: 'sre' },
  nodeSelector: { 'kubernetes.io/os': 'linux' },
  networkPolicy: {
    egress: { redis: { port: 6379, to: [{ podSelector: { matchLabels: { app: 'redis' } } }] } },
  },
};

function deployment(overrides: Values = {}): DeploymentManifest {
  return findManifest<DeploymentManifest>(renderManifests(overrides), 'Deployment');
}

function container(overrides: Values = {}): Container {
  const found = deployment(overrides).spec.template.spec.containers[0];
  if (!found) throw new Error('the Deployment has no container');
  return found;
}

describe('chart templates', () => {
  it.each([
    ['defaults', {}],
    ['everything enabled', everything],
  ])('render to valid Kubernetes objects with %s', (_name, overrides: Values) => {
    expect(validateValues(mergeValues(defaultValues(), overrides))).toEqual([]);
    const rendered = renderChart(overrides);
    expect([...rendered.keys()]).toEqual(manifestTemplates());
    for (const [file, manifests] of rendered) {
      for (const manifest of manifests) {
        expect(manifest.apiVersion, file).toMatch(/^([\w.]+\/)?v\d/);
        expect(manifest.kind, file).toMatch(/^[A-Z]\w+$/);
        expect(manifest.metadata.name, file).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
        expect(manifest.metadata.labels?.['app.kubernetes.io/instance'], file).toBe('nightshift');
      }
    }
  });

  it('render only what is switched on', () => {
    const kinds = (overrides: Values): string[] =>
      renderManifests(overrides)
        .map((manifest) => `${manifest.kind}/${manifest.metadata.name}`)
        .sort();
    expect(kinds({})).toEqual([
      'ClusterRole/nightshift-read',
      'ClusterRoleBinding/nightshift-read',
      'ConfigMap/nightshift',
      'ConfigMap/nightshift-policies',
      'Deployment/nightshift',
      'NetworkPolicy/nightshift',
      'PersistentVolumeClaim/nightshift-data',
      'PodDisruptionBudget/nightshift',
      'Service/nightshift',
      'ServiceAccount/nightshift',
    ]);
    const full = kinds(everything);
    expect(full).toContain('ServiceMonitor/nightshift');
    expect(full).toContain('ClusterRole/nightshift-actions');
    expect(full).not.toContain('PersistentVolumeClaim/nightshift-data');
    const trimmed = kinds({
      networkPolicy: { enabled: false },
      podDisruptionBudget: { enabled: false },
      rbac: { create: false },
      serviceAccount: { create: false },
    });
    expect(trimmed).toEqual([
      'ConfigMap/nightshift',
      'ConfigMap/nightshift-policies',
      'Deployment/nightshift',
      'PersistentVolumeClaim/nightshift-data',
      'Service/nightshift',
    ]);
  });

  it('refuse several replicas on the embedded graph, naming the fix', () => {
    expect(() => renderText('deployment.yaml', { replicaCount: 2 })).toThrow(TemplateFailure);
    expect(() => renderText('deployment.yaml', { replicaCount: 2 })).toThrow(
      'replicaCount > 1 needs config.graph.backend: neo4j',
    );
    expect(() => renderText('deployment.yaml', { config: { dataDir: '/x' } })).toThrow(/config.dataDir/);
  });

  it('fail on a misspelt value instead of rendering nothing', () => {
    expect(() => renderText('deployment.yaml', { probes: { readiness: null } })).toThrow(TemplateError);
    expect(() => renderText('deployment.yaml', { probes: { readiness: null } })).toThrow(
      '.Values.probes.readiness is not in the values',
    );
  });

  it('render NOTES.txt that states the policy cap and whether actions are on', () => {
    const notes = renderText('NOTES.txt');
    expect(notes).toContain('Policy cap: shadow (suggest only: nothing is executed)');
    expect(notes).toContain('Actions: disabled');
    expect(notes).toContain('secrets.existingSecret is empty');
    const enabled = renderText('NOTES.txt', everything);
    expect(enabled).toContain('Actions: ENABLED');
    expect(enabled).toContain('one leader runs the watchers');
  });
});

describe('the Deployment', () => {
  it('runs locked down: non-root, read-only root, no privilege escalation, no capabilities', () => {
    const pod = deployment().spec.template.spec;
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 10001,
      fsGroup: 10001,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(container().securityContext).toMatchObject({
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      privileged: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(container().resources.requests).toBeDefined();
    expect(container().resources.limits?.memory).toBeDefined();
  });

  it('probes liveness on /healthz and readiness on /readyz through the named port', () => {
    const main = container();
    expect(main.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(main.startupProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(main.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(main.ports).toEqual([{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
    const service = findManifest<Manifest & { spec: { ports: { targetPort: string }[] } }>(
      renderManifests(),
      'Service',
    );
    expect(service.spec.ports[0]?.targetPort).toBe('http');
  });

  it('writes only to the data volume and /tmp', () => {
    const main = container();
    const writable = main.volumeMounts
      .filter((mount) => mount.readOnly !== true)
      .map((mount) => mount.mountPath);
    expect(writable.sort()).toEqual(['/tmp', '/var/lib/nightshift']);
    const dataDir = main.env.find((entry) => entry.name === 'NIGHTSHIFT_DATA_DIR')?.value;
    expect(dataDir).toBe('/var/lib/nightshift');
    const volumes = deployment().spec.template.spec.volumes;
    expect(volumes.find((volume) => volume.name === 'data')).toHaveProperty('persistentVolumeClaim');
    expect(volumes.find((volume) => volume.name === 'tmp')).toHaveProperty('emptyDir');
    expect(deployment().spec.strategy.type).toBe('Recreate');
    expect(deployment({ persistence: { enabled: false } }).spec.strategy.type).toBe('RollingUpdate');
  });

  it('sets only variables the configuration knows, secrets by reference', () => {
    const known = new Set([
      ...settings().flatMap((setting) =>
        setting.secret ? [setting.env, `${setting.env}_FILE`] : [setting.env],
      ),
      ...NON_SETTING_ENV,
    ]);
    const secretNames = new Set(settings().flatMap((setting) => (setting.secret ? [setting.env] : [])));
    const env = container({ secrets: { existingSecret: 'nightshift-secrets' } }).env;
    for (const entry of env) {
      expect(known.has(entry.name), `${entry.name} is not a setting`).toBe(true);
      if (secretNames.has(entry.name)) {
        expect(entry.value, `${entry.name} has a literal value`).toBeUndefined();
        expect(entry.valueFrom?.secretKeyRef).toMatchObject({ name: 'nightshift-secrets', optional: true });
      }
    }
    expect(
      env
        .filter((entry) => secretNames.has(entry.name))
        .map((entry) => entry.name)
        .sort(),
    ).toEqual([...secretNames].sort());
    expect(container().env.some((entry) => secretNames.has(entry.name))).toBe(false);
  });

  it('mounts the rollout cap and extra policy files beside the shipped policies', () => {
    const mounts = container(everything).volumeMounts.filter((mount) => mount.name === 'policies');
    expect(mounts.map((mount) => [mount.mountPath, mount.subPath])).toEqual([
      ['/app/policies/chart-rollout.yaml', 'chart-rollout.yaml'],
      ['/app/policies/team.yaml', 'team.yaml'],
    ]);
    const policies = findManifest<Manifest & { data: Record<string, string> }>(
      renderManifests(everything),
      'ConfigMap',
      '-policies',
    );
    expect(Object.keys(policies.data).sort()).toEqual(['chart-rollout.yaml', 'team.yaml']);
    expect(policies.data['team.yaml']).toBe('apiVersion: nightshift.dev/v1\nkind: Policy\n');
  });

  it('restarts pods when the configuration changes', () => {
    const checksum = (overrides: Values): string | undefined =>
      deployment(overrides).spec.template.metadata.annotations['checksum/config'];
    expect(checksum({})).toMatch(/^[0-9a-f]{64}$/);
    expect(checksum({})).toBe(checksum({}));
    expect(checksum({ policy: { maxMode: 'approval' } })).not.toBe(checksum({}));
    expect(checksum({ config: { log: { level: 'debug' } } })).not.toBe(checksum({}));
  });
});

describe('the NetworkPolicy', () => {
  function policy(overrides: Values = {}): NetworkPolicyManifest {
    return findManifest<NetworkPolicyManifest>(renderManifests(overrides), 'NetworkPolicy');
  }
  const ports = (manifest: NetworkPolicyManifest): (number | string)[] =>
    manifest.spec.egress.flatMap((rule) => rule.ports.map((port) => port.port));

  it('allows egress to DNS, the API server, Redis and the vendors only', () => {
    const manifest = policy();
    expect(manifest.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(new Set(ports(manifest))).toEqual(new Set([53, 443, 6443, 6379]));
    expect(manifest.spec.ingress).toEqual([{ ports: [{ port: 'http', protocol: 'TCP' }] }]);
  });

  it('adds Neo4j only when the graph lives there, and honours narrowed peers', () => {
    expect(ports(policy())).not.toContain(7687);
    const withNeo4j = policy(everything);
    expect(ports(withNeo4j)).toContain(7687);
    const redis = withNeo4j.spec.egress.find((rule) => rule.ports.some((port) => port.port === 6379));
    expect(redis?.to).toEqual([{ podSelector: { matchLabels: { app: 'redis' } } }]);
    const narrowed = policy({
      networkPolicy: { egress: { apiServer: { cidrs: ['10.0.0.1/32'], ports: [443] }, vendors: [] } },
    });
    const api = narrowed.spec.egress.find((rule) => rule.ports.some((port) => port.port === 443));
    expect(api?.to).toEqual([{ ipBlock: { cidr: '10.0.0.1/32' } }]);
    expect(ports(narrowed).filter((port) => port === 443)).toHaveLength(1);
  });
});

describe('the ServiceMonitor', () => {
  it('scrapes /metrics on the named port', () => {
    const monitor = findManifest<Manifest & { spec: { endpoints: { port: string; path: string }[] } }>(
      renderManifests(everything),
      'ServiceMonitor',
    );
    expect(monitor.spec.endpoints).toEqual([expect.objectContaining({ port: 'http', path: '/metrics' })]);
    expect(monitor.metadata.labels?.release).toBe('prometheus');
  });
});
