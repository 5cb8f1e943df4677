import { alertId } from '../graph/ids.js';
import type { EntityInput, RelationshipInput } from '../graph/schema.js';
import type { GraphStore } from '../graph/store.js';
import type { Signal } from '../ingest/signal.js';

/**
 * A minimal `persistSignal` for when no richer graph writer is wired (the bench, tests, a bare
 * daemon): creates each referenced entity as a low-confidence placeholder when it is missing,
 * upserts an `Alert` for alert signals (`alert:<source>/<fingerprint>`) with `AFFECTS` edges to
 * the entities, and records an `alert-fired` / `alert-resolved` event. Idempotent.
 */
export function placeholderSignalWriter(
  graph: GraphStore,
): (signal: Signal) => Promise<{ entityIds: string[] }> {
  return async (signal) => {
    const missing: EntityInput[] = [];
    for (const ref of signal.entities) {
      if (await graph.get(ref.id)) continue;
      missing.push({
        id: ref.id,
        kind: ref.kind,
        name: ref.name,
        source: signal.source,
        confidence: 0.5,
        observedAt: signal.observedAt,
        properties: {
          ...(ref.namespace ? { namespace: ref.namespace } : {}),
          ...(ref.cluster ? { cluster: ref.cluster } : {}),
        },
      });
    }
    if (missing.length > 0) await graph.upsertEntities(missing);
    const entityIds = signal.entities.map((ref) => ref.id);
    if (signal.kind !== 'alert') return { entityIds };
    const alert = alertId(signal.source, signal.fingerprint);
    await graph.upsertEntities([
      {
        id: alert,
        kind: 'Alert',
        name: signal.summary.slice(0, 512),
        source: signal.source,
        observedAt: signal.observedAt,
        properties: { status: signal.status ?? 'firing', severity: signal.severity },
      },
    ]);
    const edges: RelationshipInput[] = entityIds.map((to) => ({
      kind: 'AFFECTS',
      from: alert,
      to,
      source: signal.source,
    }));
    if (edges.length > 0) await graph.upsertRelationships(edges);
    await graph.recordEvents([
      {
        id: `${alert}@${signal.id}`,
        kind: signal.status === 'resolved' ? 'alert-resolved' : 'alert-fired',
        entityId: alert,
        at: signal.observedAt,
        summary: signal.summary.slice(0, 2_000),
        source: signal.source,
      },
    ]);
    return { entityIds: [...entityIds, alert] };
  };
}
