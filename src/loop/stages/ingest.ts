import { ingestPayload } from '../payloads.js';
import type { LoopStage } from '../stage.js';
import type { LoopContext } from './context.js';

/** Signal kinds that can start or feed an incident; changes, messages and events are only recorded. */
const INCIDENT_KINDS: ReadonlySet<string> = new Set(['alert', 'anomaly', 'log_pattern']);

/**
 * ingest: writes the signal to the graph (idempotent), then hands alerts, anomalies and log
 * patterns to detect. Job id of the next job: `<signalId>:detect:1`.
 */
export const ingestStage: LoopStage<typeof ingestPayload, LoopContext> = {
  name: 'ingest',
  payload: ingestPayload,
  async handle({ signal }, context) {
    const { entityIds } = await context.deps.persistSignal(signal);
    if (!INCIDENT_KINDS.has(signal.kind)) {
      context.metrics?.signals.inc({ outcome: 'recorded' });
      return undefined;
    }
    return { stage: 'detect', payload: { v: 1, signal, entityIds }, jobId: `${signal.id}:detect:1` };
  },
};
