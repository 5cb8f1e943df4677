import { z } from 'zod';
import { SystemError } from '../shared/errors.js';
import { stableHash } from '../shared/ids.js';
import { signalSchema, type Signal } from './signal.js';

/** The queue normalized signals wait in for the graph writer and the loop. */
export const INGEST_QUEUE = 'ingest';

/** Most signals one ingest job carries; a larger batch is queued as several jobs, atomically. */
export const INGEST_BATCH_MAX = 100;

/**
 * A queued ingest job, versioned like every payload: `{v: 2, signals}` carries the signals of one
 * delivery (at most `INGEST_BATCH_MAX`), so a storm of grouped alerts costs a job per group, not
 * per alert. `{v: 1, signal}` is what earlier versions queued; it is still read.
 */
export const ingestJobSchema = z.union([
  z.strictObject({ v: z.literal(2), signals: z.array(signalSchema).min(1).max(INGEST_BATCH_MAX) }),
  z.strictObject({ v: z.literal(1), signal: signalSchema }),
]);
export type IngestJob = z.infer<typeof ingestJobSchema>;

/** The signals of an ingest job, whichever version queued it. */
export function ingestJobSignals(job: IngestJob): Signal[] {
  return job.v === 2 ? job.signals : [job.signal];
}

/**
 * The key of a batch of signals: the signal id for one, else a digest of the ids in order. The
 * same batch always gets the same key, so a redelivered batch maps to the same jobs.
 */
export function batchKey(signals: ReadonlyArray<Pick<Signal, 'id'>>): string {
  const [only] = signals;
  if (signals.length === 1 && only) return only.id;
  return `b_${stableHash(...signals.map((signal) => signal.id)).slice(0, 32)}`;
}

/** Who handed the signals over, for logs and tracing. */
export interface SinkContext {
  /** The channel, e.g. `webhook/alertmanager`. */
  channel: string;
  requestId?: string;
  deliveryId?: string;
}

/** What happened to a batch: newly queued, and recognised as a repeat of something already queued. */
export interface AcceptReport {
  accepted: number;
  deduplicated: number;
}

/**
 * Where ingestion hands signals over. `accept` resolves only once every signal of the batch is
 * durably queued, or recognised as a repeat of one that is (counted in `deduplicated`); only then
 * may a sender be told 2xx. It rejects with a retryable `SystemError` when it cannot vouch for
 * that; the caller then refuses the delivery (503) so the sender retries. A retried batch is safe:
 * signals already queued are recognised by their ids, so nothing is queued twice. Safe to call
 * concurrently.
 */
export interface SignalSink {
  accept(signals: readonly Signal[], context: SinkContext): Promise<AcceptReport>;
}

/**
 * The key a repeat is recognised by within the deduplication window: source, fingerprint and the
 * alert status (or, for other kinds, the kind). An alert's firing and resolved signals differ, so a
 * resolution is never swallowed by the firing before it.
 */
export function dedupeKey(signal: Pick<Signal, 'source' | 'fingerprint' | 'status' | 'kind'>): string {
  return `dd_${stableHash(signal.source, signal.fingerprint, signal.status ?? signal.kind).slice(0, 32)}`;
}

/** The error a sink rejects with when it cannot queue durably; always retryable. */
export function sinkUnavailable(message: string, cause?: unknown): SystemError {
  return new SystemError('sink_unavailable', message, { cause, retryable: true });
}
