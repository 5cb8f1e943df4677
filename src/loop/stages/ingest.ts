import { batchKey, ingestJobSignals } from '../../ingest/sink.js';
import { ValidationError } from '../../shared/errors.js';
import { ingestPayload, type DetectItem } from '../payloads.js';
import type { LoopStage } from '../stage.js';
import type { LoopContext } from './context.js';

/** Signal kinds that can start or feed an incident; changes, messages and events are only recorded. */
const INCIDENT_KINDS: ReadonlySet<string> = new Set(['alert', 'anomaly', 'log_pattern']);

/**
 * ingest: writes the job's signals to the graph in order (idempotent), then hands the alerts,
 * anomalies and log patterns among them to detect in one job, `<batchKey>:detect:1`, keyed by
 * those signals, so a replay queues the same job. A signal the graph refuses for good (a
 * `ValidationError`: retrying cannot fix it) is logged with the reason, counted as `rejected` and
 * left out, so it cannot hold up the rest of its delivery; any other failure fails the attempt
 * and the whole job is retried.
 */
export const ingestStage: LoopStage<typeof ingestPayload, LoopContext> = {
  name: 'ingest',
  payload: ingestPayload,
  async handle(job, context) {
    const items: DetectItem[] = [];
    for (const signal of ingestJobSignals(job)) {
      let entityIds: string[];
      try {
        ({ entityIds } = await context.deps.persistSignal(signal));
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error;
        context.metrics?.signals.inc({ outcome: 'rejected' });
        context.logger.warn(
          { signalId: signal.id, source: signal.source, err: error.message },
          'the graph refused a signal; it is left out of its delivery',
        );
        continue;
      }
      if (INCIDENT_KINDS.has(signal.kind)) items.push({ signal, entityIds });
      else context.metrics?.signals.inc({ outcome: 'recorded' });
    }
    if (items.length === 0) return undefined;
    const key = batchKey(items.map((item) => item.signal));
    return { stage: 'detect', payload: { v: 2, items }, jobId: `${key}:detect:1` };
  },
};
