import { EmbeddedGraphStore } from '../../src/graph/embedded/embedded-store.js';
import {
  datastoreId,
  deployId,
  flagId,
  hypothesisId,
  incidentId,
  k8sId,
  serviceId,
} from '../../src/graph/ids.js';
import type { GraphStore } from '../../src/graph/store.js';
import type { Clock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';

const MINUTE = 60_000;

/** Ids of the seeded estate. */
export const ids = {
  checkout: serviceId('checkout'),
  payments: serviceId('payments'),
  orders: datastoreId('postgres', 'orders'),
  workload: k8sId('prod', 'shop', 'Deployment', 'checkout'),
  flag: flagId('launchdarkly', 'new-cart'),
  deploy: deployId(k8sId('prod', 'shop', 'Deployment', 'checkout'), 42),
  incident: incidentId('inc-1'),
  oldIncident: incidentId('inc-0'),
  hypothesisDeploy: hypothesisId('inc-1', 'deploy'),
  hypothesisConfig: hypothesisId('inc-1', 'deploy-config'),
  hypothesisDatabase: hypothesisId('inc-1', 'db'),
} as const;

/**
 * A small shop: checkout calls payments, which needs the orders database; the checkout workload
 * got deploy 42 half an hour ago and a flag flipped ten minutes ago. One open incident on checkout
 * with three hypotheses (one refining another), and one resolved incident with a written report.
 */
export async function seedShop(graph: GraphStore, now: number): Promise<void> {
  const source = 'test';
  await graph.upsertEntities([
    { id: ids.checkout, kind: 'Service', name: 'checkout', source, properties: { tier: 'critical' } },
    { id: ids.payments, kind: 'Service', name: 'payments', source },
    { id: ids.orders, kind: 'Datastore', name: 'orders', source },
    {
      id: ids.workload,
      kind: 'Workload',
      name: 'checkout',
      source,
      properties: { workloadKind: 'Deployment' },
    },
    { id: ids.flag, kind: 'FeatureFlag', name: 'new-cart', source },
    { id: ids.deploy, kind: 'Deploy', name: 'checkout@42', source, observedAt: now - 30 * MINUTE },
    {
      id: ids.incident,
      kind: 'Incident',
      name: 'Checkout error rate above SLO',
      source,
      observedAt: now - 20 * MINUTE,
      properties: { state: 'investigating', severity: 'critical', openedAt: now - 20 * MINUTE },
    },
    {
      id: ids.oldIncident,
      kind: 'Incident',
      name: 'Payments latency',
      source,
      observedAt: now - 2 * 86_400_000,
      properties: {
        state: 'resolved',
        severity: 'warning',
        openedAt: now - 2 * 86_400_000,
        report: '# Payments latency\n\nThe orders database ran out of connections.\n',
      },
    },
    {
      id: ids.hypothesisDeploy,
      kind: 'Hypothesis',
      source,
      confidence: 0.8,
      properties: {
        statement: 'Deploy 42 of checkout introduced the errors',
        status: 'supported',
        category: 'deploy-regression',
        evidence: ['error rate rose two minutes after deploy 42'],
      },
    },
    {
      id: ids.hypothesisConfig,
      kind: 'Hypothesis',
      source,
      confidence: 0.4,
      properties: {
        statement: 'A config value shipped with deploy 42 is wrong',
        status: 'open',
        parent: ids.hypothesisDeploy,
      },
    },
    {
      id: ids.hypothesisDatabase,
      kind: 'Hypothesis',
      source,
      confidence: 0.1,
      properties: { statement: 'The orders database is saturated', status: 'refuted' },
    },
  ]);
  await graph.upsertRelationships([
    { kind: 'CALLS', from: ids.checkout, to: ids.payments, source },
    { kind: 'DEPENDS_ON', from: ids.payments, to: ids.orders, source },
    { kind: 'DEPENDS_ON', from: ids.checkout, to: ids.flag, source },
    { kind: 'PART_OF', from: ids.workload, to: ids.checkout, source },
    { kind: 'DEPLOYED', from: ids.deploy, to: ids.workload, source },
    { kind: 'AFFECTS', from: ids.incident, to: ids.checkout, source },
    { kind: 'EXPLAINED_BY', from: ids.incident, to: ids.hypothesisDeploy, source },
    { kind: 'EXPLAINED_BY', from: ids.incident, to: ids.hypothesisConfig, source },
    { kind: 'EXPLAINED_BY', from: ids.incident, to: ids.hypothesisDatabase, source },
  ]);
  await graph.recordEvents([
    {
      id: 'ev-deploy-42',
      kind: 'deploy',
      entityId: ids.workload,
      at: now - 30 * MINUTE,
      summary: 'checkout 41 → 42',
      source,
    },
    {
      id: 'ev-deploy-41',
      kind: 'deploy',
      entityId: ids.workload,
      at: now - 5 * 60 * MINUTE,
      summary: 'checkout 40 → 41',
      source,
    },
    {
      id: 'ev-flag',
      kind: 'flag-flip',
      entityId: ids.flag,
      at: now - 10 * MINUTE,
      summary: 'new-cart on for 50%',
      source,
    },
    {
      id: 'ev-inc-alert',
      kind: 'alert-fired',
      entityId: ids.incident,
      at: now - 20 * MINUTE,
      summary: 'CheckoutErrorRate firing',
      source,
      properties: { by: 'signal:alertmanager' },
    },
    {
      id: 'ev-inc-investigating',
      kind: 'note',
      entityId: ids.incident,
      at: now - 19 * MINUTE,
      summary: 'investigation started',
      source,
      properties: { by: 'stage:investigate' },
    },
    {
      id: 'ev-hyp-evidence',
      kind: 'note',
      entityId: ids.hypothesisDeploy,
      at: now - 15 * MINUTE,
      summary: '5xx rate 0.2% → 7% at 11:32',
      source,
      properties: { supports: true, tool: 'prometheus.query' },
    },
  ]);
}

/** Opens an embedded store in `dataDir` (journal not fsynced: tests). */
export function openTestGraph(dataDir: string, clock: Clock): Promise<EmbeddedGraphStore> {
  return EmbeddedGraphStore.open({ dataDir, fsync: 'never', logger: silentLogger(), clock });
}
