import { stableHash } from '../../shared/ids.js';
import type { Estate } from '../scenario/estate-schema.js';
import { canonicalJson, cloneJson } from './kube-object.js';
import type { ServiceModel } from './model.js';

/** A pod template as Deployments, StatefulSets and Jobs carry it (JSON). */
export interface PodTemplate {
  metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
  spec: {
    containers: Array<Record<string, unknown> & { name: string; image: string }>;
    [key: string]: unknown;
  };
}

const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** Encodes a hex digest with Kubernetes' SafeEncodeString alphabet (no vowels, no confusables). */
export function safeEncode(hex: string, length: number): string {
  let result = '';
  for (let index = 0; index < length; index++) {
    const byte = Number.parseInt(hex.slice(index * 2, index * 2 + 2), 16);
    result += SAFE_ALPHABET[byte % SAFE_ALPHABET.length];
  }
  return result;
}

/** The template without the `pod-template-hash` label, as the controller compares templates. */
export function withoutHash(template: PodTemplate): PodTemplate {
  const copy = cloneJson(template);
  delete copy.metadata.labels['pod-template-hash'];
  return copy;
}

/** The `pod-template-hash` of a template (10 safe characters), stable for equal templates. */
export function templateHash(template: PodTemplate): string {
  return safeEncode(stableHash(canonicalJson(withoutHash(template))), 10);
}

/** True when two templates are equal ignoring the `pod-template-hash` label. */
export function sameTemplate(a: PodTemplate, b: PodTemplate): boolean {
  return canonicalJson(withoutHash(a)) === canonicalJson(withoutHash(b));
}

/**
 * What the pods run, ignoring annotations (a restart changes the template but not the code):
 * images, commands, env, config references, resources and volumes.
 */
export function codeFingerprint(template: PodTemplate): string {
  const containers = template.spec.containers.map((container) => ({
    image: container.image,
    command: container.command,
    args: container.args,
    env: container.env,
    envFrom: container.envFrom,
    resources: container.resources,
  }));
  return stableHash(canonicalJson({ containers, volumes: template.spec.volumes })).slice(0, 12);
}

function quantityCpu(cores: number): string {
  return `${Math.max(1, Math.round(cores * 1000))}m`;
}

/** The name of a service's ConfigMap for the given data (kustomize-style hash suffix). */
export function configMapName(service: string, data: Record<string, string>): string {
  return `${service}-config-${safeEncode(stableHash(canonicalJson(data)), 10)}`;
}

/** The initial ConfigMap data of a service: its env plus a few settings every service has. */
export function initialConfigData(model: ServiceModel): Record<string, string> {
  const data: Record<string, string> = { LOG_LEVEL: 'info', PORT: String(model.port) };
  if (model.kind === 'service') data.DATABASE_POOL_SIZE = '20';
  for (const [key, value] of Object.entries(model.spec.env)) data[key] = String(value);
  return data;
}

/** The pod template of a service, referencing its ConfigMap. */
export function buildTemplate(
  model: ServiceModel,
  estate: Estate,
  configMap: string | undefined,
  image = model.image,
): PodTemplate {
  const labels: Record<string, string> = {
    app: model.name,
    'app.kubernetes.io/name': model.name,
    'app.kubernetes.io/part-of': estate.name,
    ...(model.spec.labels ?? {}),
  };
  const container: PodTemplate['spec']['containers'][number] = {
    name: model.name,
    image,
    ports: [{ name: model.portName, containerPort: model.port, protocol: 'TCP' }],
    ...(configMap ? { envFrom: [{ configMapRef: { name: configMap } }] } : {}),
    resources: {
      requests: {
        cpu: quantityCpu(model.baseline.cpu || 0.1),
        memory: `${Math.round(model.baseline.memoryMi || 64)}Mi`,
      },
      limits: { cpu: quantityCpu(model.limits.cpu), memory: `${Math.round(model.limits.memoryMi)}Mi` },
    },
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
    imagePullPolicy: 'IfNotPresent',
  };
  if (model.kind === 'service') {
    container.readinessProbe = { httpGet: { path: '/healthz', port: model.port }, periodSeconds: 10 };
    container.livenessProbe = {
      httpGet: { path: '/livez', port: model.port },
      periodSeconds: 10,
      failureThreshold: 3,
    };
  }
  return {
    metadata: { labels },
    spec: {
      containers: [container],
      restartPolicy: model.workload === 'Job' ? 'Never' : 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      schedulerName: 'default-scheduler',
      ...(model.spec.node ? { nodeSelector: { 'kubernetes.io/hostname': model.spec.node } } : {}),
    },
  };
}

/** The image of a template's first container. */
export function imageOf(template: PodTemplate): string {
  return template.spec.containers[0]?.image ?? '';
}

/** The ConfigMap the template's first container reads, if any. */
export function configMapOf(template: PodTemplate): string | undefined {
  const envFrom = template.spec.containers[0]?.envFrom as
    Array<{ configMapRef?: { name?: string } }> | undefined;
  return envFrom?.find((source) => source.configMapRef?.name)?.configMapRef?.name;
}
