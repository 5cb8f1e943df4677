import { actionId, incidentId as incidentGraphId, k8sId } from '../graph/ids.js';
import type { GraphStore } from '../graph/store.js';
import type { AuditRecord, AuditType } from './audit.js';

/** The audit records that change what the graph says about an action. */
const MIRRORED: ReadonlySet<AuditType> = new Set([
  'shadow',
  'approval-requested',
  'execute-intent',
  'executed',
  'failed',
  'verified',
  'undone',
  'escalated',
]);

/** The Action entity's `state` for a record type. */
const STATE: Partial<Record<AuditType, string>> = {
  shadow: 'suggested',
  'approval-requested': 'awaiting-approval',
  'execute-intent': 'executing',
  executed: 'executed',
  failed: 'failed',
  verified: 'verified',
  undone: 'undone',
  escalated: 'escalated',
};

/**
 * Mirrors audit records into the graph (the JSONL file stays the record of truth):
 *
 * - an `Action` entity per idempotency key (`action:<key>`) with its kind, target, mode, rule,
 *   state and who acted;
 * - an `action-taken` event on the target (`k8s:<cluster>/<ns>/<Kind>/<name>`) when it executes;
 * - `Incident -[RESOLVED_BY]-> Action` once verify confirms it, when the incident is in the graph.
 *
 * Idempotent per record (event ids are the audit record ids). Throws what the store throws;
 * the audit file logs and carries on.
 */
export function graphAuditMirror(
  store: GraphStore,
  source = 'nightshift-act',
): (record: AuditRecord) => Promise<void> {
  return async (record) => {
    if (!MIRRORED.has(record.type) || !record.key) return;
    const at = Date.parse(record.at);
    const id = actionId(record.key);
    await store.upsertEntities([
      {
        id,
        kind: 'Action',
        name: `${record.action} ${record.target}`,
        source,
        observedAt: at,
        properties: {
          action: record.action,
          target: record.target,
          incident: record.incidentId,
          state: STATE[record.type] ?? record.type,
          actor: record.actor,
          message: record.message,
          ...(record.mode ? { mode: record.mode } : {}),
          ...(record.rule ? { rule: record.rule } : {}),
          ...(record.policy ? { policy: record.policy } : {}),
          ...(record.approvedBy ? { approvedBy: record.approvedBy } : {}),
        },
      },
    ]);
    if (record.type === 'executed' && record.ref?.cluster && record.ref.kind !== 'FeatureFlag') {
      await store.recordEvents([
        {
          id: `audit:${record.id}`,
          kind: 'action-taken',
          entityId: k8sId(record.ref.cluster, record.ref.namespace ?? null, record.ref.kind, record.ref.name),
          at,
          summary: record.message.slice(0, 2048),
          source,
          properties: { action: record.action, actionId: id, incident: record.incidentId },
        },
      ]);
    }
    if (record.type === 'verified') {
      const incident = incidentGraphId(record.incidentId);
      if (await store.get(incident)) {
        await store.upsertRelationships([
          {
            kind: 'RESOLVED_BY',
            from: incident,
            to: id,
            source,
            observedAt: at,
            properties: { key: record.key },
          },
        ]);
      }
    }
  };
}
