import { R } from '../cluster.js';
import { rfc3339 } from '../kube-object.js';
import { addErrors } from '../samples.js';
import { activeSince, type FaultModelOf } from './fault-model.js';
import { dataText, ramp } from './helpers.js';

function firstDependency(
  world: Parameters<NonNullable<FaultModelOf<'dns_failure'>['errorLine']>>[1],
  service: string,
): string {
  return world.model(service)?.dependsOn[0] ?? 'kubernetes.default';
}

/**
 * A NetworkPolicy appears in the service's namespace that allows egress only to pods on the
 * service port, so DNS (port 53) is denied: every name lookup of the service times out. No
 * catalog action clears it (escalate naming the policy); new pods of the service cannot pass
 * their startup check, so a restart makes it worse.
 */
export const dnsFailure: FaultModelOf<'dns_failure'> = {
  kind: 'dns_failure',
  subject: (runtime) => runtime.fault.policy,
  start(runtime, world) {
    const model = world.model(runtime.fault.service);
    const namespace = model?.namespace ?? 'default';
    world.cluster.store.put(R.networkpolicies, {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: {
        name: runtime.fault.policy,
        namespace,
        uid: world.cluster.uid(),
        creationTimestamp: rfc3339(world.now()),
        labels: { 'app.kubernetes.io/managed-by': 'security-baseline' },
      },
      spec: {
        podSelector: { matchLabels: { app: runtime.fault.service } },
        policyTypes: ['Egress'],
        egress: [{ to: [{ podSelector: {} }], ports: [{ protocol: 'TCP', port: model?.port ?? 8080 }] }],
      },
    });
    runtime.data.namespace = namespace;
  },
  present(runtime, world) {
    return (
      world.cluster.store.get(R.networkpolicies, dataText(runtime, 'namespace'), runtime.fault.policy) !==
      undefined
    );
  },
  fateOf(runtime, world, pod) {
    if (pod.service !== runtime.fault.service || pod.createdAt <= runtime.startedAt) return undefined;
    const dependency = firstDependency(world, runtime.fault.service);
    return {
      kind: 'crash-loop',
      exitCode: 1,
      reason: 'Error',
      lines: [
        `FATAL startup check failed: getaddrinfo EAI_AGAIN ${dependency}.${pod.namespace}.svc.cluster.local`,
      ],
    };
  },
  apply(runtime, _world, t, samples) {
    const since = activeSince(runtime, t);
    if (since === undefined) return;
    const sample = samples.get(runtime.fault.service);
    addErrors(sample, 0.7 * ramp(t, since, 20_000));
    if (sample) sample.latencyP99Ms += 5_000 * ramp(t, since, 20_000);
  },
  errorLine(runtime, world, service) {
    if (service !== runtime.fault.service) return undefined;
    const dependency = firstDependency(world, service);
    return `request failed status=500 error="getaddrinfo EAI_AGAIN ${dependency}.${dataText(runtime, 'namespace')}.svc.cluster.local"`;
  },
  podLines(runtime, world, pod) {
    if (pod.service !== runtime.fault.service) return [];
    const dependency = firstDependency(world, pod.service);
    return [
      {
        level: 'warn',
        message: `dial tcp: lookup ${dependency}.${pod.namespace}.svc.cluster.local on 10.96.0.10:53: read udp ${pod.ip}:41234->10.96.0.10:53: i/o timeout`,
      },
    ];
  },
};
