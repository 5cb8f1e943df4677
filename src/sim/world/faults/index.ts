import type { Fault, FaultKind } from '../../scenario/fault-schema.js';
import { badConfig } from './bad-config.js';
import { badDeploy } from './bad-deploy.js';
import { cacheMemoryPressure } from './cache-memory-pressure.js';
import { certExpiry } from './cert-expiry.js';
import { connectionPoolExhaustion } from './connection-pool-exhaustion.js';
import { dependencyFailure } from './dependency-failure.js';
import { dnsFailure } from './dns-failure.js';
import type { FaultModel, FaultModelOf } from './fault-model.js';
import { flagRegression } from './flag-regression.js';
import { flapping } from './flapping.js';
import { imagePull } from './image-pull.js';
import { memoryLeak } from './memory-leak.js';
import { noisyNeighbor } from './noisy-neighbor.js';
import { nodePressure } from './node-pressure.js';
import { pendingUnschedulable } from './pending-unschedulable.js';
import { trafficSurge } from './traffic-surge.js';

/** Every fault kind's model (docs/evals.md, "Faults"). */
export const FAULT_MODELS: { readonly [K in FaultKind]: FaultModelOf<K> } = {
  bad_deploy: badDeploy,
  bad_config: badConfig,
  image_pull: imagePull,
  memory_leak: memoryLeak,
  traffic_surge: trafficSurge,
  connection_pool_exhaustion: connectionPoolExhaustion,
  cache_memory_pressure: cacheMemoryPressure,
  dependency_failure: dependencyFailure,
  node_pressure: nodePressure,
  dns_failure: dnsFailure,
  pending_unschedulable: pendingUnschedulable,
  flag_regression: flagRegression,
  noisy_neighbor: noisyNeighbor,
  cert_expiry: certExpiry,
  flapping,
};

/** The model of a fault kind. */
export function faultModel(kind: FaultKind): FaultModel<Fault> {
  return FAULT_MODELS[kind];
}
