import { R } from '../cluster.js';
import { rfc3339 } from '../kube-object.js';
import { addErrors } from '../samples.js';
import type { FaultModelOf } from './fault-model.js';
import { ramp } from './helpers.js';

function certificateName(runtime: { fault: { certificate?: string; service: string } }): string {
  return runtime.fault.certificate ?? `${runtime.fault.service}-tls`;
}

/**
 * The service's TLS certificate expires: handshakes fail (callers see x509 errors), the
 * cert-manager Certificate reports Expired, and any new pod crash-loops loading the expired
 * certificate, so a restart makes it worse. No catalog action clears it (escalate naming the
 * certificate).
 */
export const certExpiry: FaultModelOf<'cert_expiry'> = {
  kind: 'cert_expiry',
  subject: (runtime) => certificateName(runtime),
  start(runtime, world) {
    const model = world.model(runtime.fault.service);
    const namespace = model?.namespace ?? 'default';
    const name = certificateName(runtime);
    const issued = world.now() - 90 * 86_400_000;
    const notAfter = world.now() - 1_000;
    runtime.data.notAfter = notAfter;
    if (!world.cluster.store.get(R.secrets, namespace, name)) {
      world.cluster.store.put(R.secrets, {
        apiVersion: 'v1',
        kind: 'Secret',
        type: 'kubernetes.io/tls',
        metadata: {
          name,
          namespace,
          uid: world.cluster.uid(),
          creationTimestamp: rfc3339(issued),
          annotations: {
            'cert-manager.io/certificate-name': name,
            'cert-manager.io/issuer-name': 'internal-ca',
          },
        },
        data: {
          'tls.crt': Buffer.from(
            '-----BEGIN CERTIFICATE-----\n(expired)\n-----END CERTIFICATE-----\n',
          ).toString('base64'),
          'tls.key': '',
        },
      });
    }
    world.cluster.store.put(R.certificates, {
      apiVersion: 'cert-manager.io/v1',
      kind: 'Certificate',
      metadata: { name, namespace, uid: world.cluster.uid(), creationTimestamp: rfc3339(issued) },
      spec: {
        secretName: name,
        dnsNames: [`${runtime.fault.service}.${namespace}.svc.cluster.local`],
        issuerRef: { name: 'internal-ca', kind: 'ClusterIssuer' },
      },
      status: {
        notBefore: rfc3339(issued),
        notAfter: rfc3339(notAfter),
        conditions: [
          {
            type: 'Ready',
            status: 'False',
            reason: 'Expired',
            message: `Certificate expired on ${rfc3339(notAfter)}`,
            lastTransitionTime: rfc3339(world.now()),
          },
        ],
      },
    });
  },
  fateOf(runtime, _world, pod) {
    if (pod.service !== runtime.fault.service || pod.createdAt <= runtime.startedAt) return undefined;
    return {
      kind: 'crash-loop',
      exitCode: 1,
      reason: 'Error',
      lines: [
        `FATAL failed to load TLS certificate /etc/tls/tls.crt: x509: certificate has expired or is not yet valid: current time ${rfc3339(pod.createdAt)} is after ${rfc3339(Number(runtime.data.notAfter))}`,
      ],
    };
  },
  apply(runtime, _world, t, samples) {
    addErrors(samples.get(runtime.fault.service), 0.8 * ramp(t, runtime.startedAt, 30_000));
  },
  errorLine(runtime, world, service, t) {
    const notAfter = rfc3339(Number(runtime.data.notAfter));
    if (service === runtime.fault.service)
      return `http: TLS handshake error from 10.244.1.23:51234: remote error: tls: bad certificate`;
    if (world.model(runtime.fault.service)?.dependents.includes(service)) {
      return `request failed status=502 error="x509: certificate has expired or is not yet valid: current time ${rfc3339(t)} is after ${notAfter}" upstream=${runtime.fault.service}`;
    }
    return undefined;
  },
};
