import { z } from 'zod';
import { INGEST_BATCH_MAX, ingestJobSchema } from '../ingest/sink.js';
import { signalSchema } from '../ingest/signal.js';

/** The loop's queues, one per stage, in the order work flows. */
export const LOOP_STAGES = [
  'ingest',
  'detect',
  'investigate',
  'respond',
  'execute',
  'verify',
  'learn',
] as const;
export type LoopStageName = (typeof LOOP_STAGES)[number];

/** The queue the suppression digest is scheduled on. */
export const DIGEST_QUEUE = 'noise-digest';

/** ingest: what the ingest sink queues (`{v: 2, signals}`, job id = `batchKey(signals)`). */
export const ingestPayload = ingestJobSchema;

/** A persisted signal and the graph entities it touched. */
const detectItem = z.strictObject({ signal: signalSchema, entityIds: z.array(z.string()) });

/**
 * detect: `{v: 2, items}`, the persisted signals of one ingest job in arrival order (job id
 * `<batchKey>:detect:1`); or `{v: 1, signal, entityIds}`, one signal: the second look at a warning
 * held as possibly transient (`held: true`, job id `<signalId>:detect:held`), or a job queued by
 * an earlier version.
 */
export const detectPayload = z.union([
  z.strictObject({ v: z.literal(2), items: z.array(detectItem).min(1).max(INGEST_BATCH_MAX) }),
  z.strictObject({
    v: z.literal(1),
    signal: signalSchema,
    entityIds: z.array(z.string()),
    held: z.literal(true).optional(),
  }),
]);
export type DetectPayload = z.infer<typeof detectPayload>;
export type DetectItem = z.infer<typeof detectItem>;

const incidentKey = z.string().regex(/^[A-Za-z0-9_.-]+$/, 'an incident key has no colons');

/** investigate / respond / verify / learn: an incident and its investigation round. */
export const roundPayload = z.strictObject({
  v: z.literal(1),
  incidentKey,
  round: z.number().int().min(1),
});
export type RoundPayload = z.infer<typeof roundPayload>;

/** execute: one approved or autonomous proposal of a round. Job id `<key>:execute:<round>-<index>`. */
export const executePayload = z.strictObject({
  v: z.literal(1),
  incidentKey,
  round: z.number().int().min(1),
  proposalIndex: z.number().int().min(0),
  /** Who allowed it: `policy` (autonomous) or the approver. */
  approvedBy: z.strictObject({ kind: z.enum(['policy', 'person']), id: z.string().min(1) }),
});
export type ExecutePayload = z.infer<typeof executePayload>;

/** The scheduled digest of suppressed signals. */
export const digestPayload = z.strictObject({ v: z.literal(1), kind: z.literal('noise-digest') });

/** `<incidentKey>:<stage>:<step>`: the same on every delivery of one step, so a replay adds nothing. */
export function loopJobId(incidentKey: string, stage: LoopStageName, step: string | number): string {
  const text = String(step);
  if (incidentKey.includes(':') || text.includes(':'))
    throw new Error(`a job id part may not contain ':' (${incidentKey}, ${text})`);
  return `${incidentKey}:${stage}:${text}`;
}
