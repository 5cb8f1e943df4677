import * as k8s from '@kubernetes/client-node';
import { resolve } from 'node:path';
import { onTestFinished } from 'vitest';
import { MemoryActionLog, type ActionLog } from '../../src/act/action-log.js';
import { MemoryAuditLog, type AuditLog } from '../../src/act/audit.js';
import type { ExecutorDeps } from '../../src/act/executor.js';
import { createHttpFlagsApi } from '../../src/act/flags-api.js';
import { createKubernetesApi } from '../../src/act/kubernetes-client.js';
import type { ProposalInput } from '../../src/act/proposal.js';
import type { PolicySet } from '../../src/policy/index.js';
import { policySetFrom } from '../../src/policy/testing.js';
import { loadEstate } from '../../src/sim/scenario/load.js';
import { startSim, type Sim } from '../../src/sim/sim.js';
import { tempDir } from '../kit/tmp.js';

export const EVALS_DIR = resolve(import.meta.dirname, '../../evals');
export const START = Date.UTC(2026, 2, 2, 9, 0, 0);

/** Everything autonomous, with the default policy's limits and breaker. */
export const AUTONOMOUS = policySetFrom(`
mode: { default: autonomous }
limits: { perTargetPerHour: 3, perClusterPerHour: 10 }
circuitBreaker: { failures: 3, window: 1h, cooldown: 1h, fallback: approval }
rules: []
`);

/** The shop estate served on loopback with its clock stopped; stopped when the test finishes. */
export async function shopSim(): Promise<Sim> {
  const { estate } = loadEstate('shop', { evalsDir: EVALS_DIR });
  const sim = await startSim({ estate, dataDir: tempDir(), startMs: START, vendors: false, paused: true });
  onTestFinished(() => sim.stop());
  return sim;
}

/** The real client-node config for the sim's kubeconfig. */
export function kubeConfigOf(sim: Sim): k8s.KubeConfig {
  const config = new k8s.KubeConfig();
  config.loadFromFile(sim.kubernetes.kubeconfigPath);
  return config;
}

/** Executor dependencies against the sim: the real Kubernetes client and the HTTP flag provider. */
export function simDeps(
  sim: Sim,
  options: { policy?: PolicySet; actionLog?: ActionLog; audit?: AuditLog; actor?: string } = {},
): ExecutorDeps & { audit: AuditLog; actionLog: ActionLog } {
  return {
    policy: () => options.policy ?? AUTONOMOUS,
    actionLog: options.actionLog ?? new MemoryActionLog(),
    audit: options.audit ?? new MemoryAuditLog(),
    kube: createKubernetesApi(kubeConfigOf(sim)),
    flags: createHttpFlagsApi({ url: sim.flags.url }),
    actor: options.actor ?? 'nightshift/test',
    defaultCluster: sim.world.clusterName(),
    retry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 20 },
  };
}

/** A prod Deployment target in the shop namespace. */
export function deploymentTarget(name: string, replicas?: number): ProposalInput['target'] {
  return {
    kind: 'Deployment',
    name,
    namespace: 'shop',
    cluster: 'prod-eu1',
    environment: 'prod',
    tier: 'standard',
    stateful: false,
    ...(replicas !== undefined ? { replicas } : {}),
  };
}

/** A proposal with a confident hypothesis. */
export function proposalFor(
  action: ProposalInput['action'],
  target: ProposalInput['target'],
  params: Record<string, unknown> = {},
  incidentId = 'inc-sim',
): ProposalInput {
  return { incidentId, action, target, params, hypothesis: { category: 'bad_deploy', confidence: 0.9 } };
}
