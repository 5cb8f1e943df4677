import { createReadStream } from 'node:fs';
import { mkdir, open, stat, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { SystemError } from '../shared/errors.js';
import { newId } from '../shared/ids.js';
import type { Logger } from '../shared/logger.js';
import type { Mode } from '../policy/index.js';
import type { ActionPlan } from './types.js';

/**
 * What happened, in order: every policy decision, every suggestion and every write, and what
 * came of it.
 *
 * | type | written when |
 * |---|---|
 * | `invalid` | the proposal or its parameters did not validate |
 * | `decision` | the policy answered (every proposal) |
 * | `denied` | the policy said deny |
 * | `shadow` | suggest only: the plan ("would have done") and the evidence |
 * | `approval-requested` | the policy wants a human; the plan goes to them |
 * | `duplicate` | the idempotency key was already claimed: nothing done |
 * | `blocked` / `noop` | a precondition failed / the change is already in effect |
 * | `execute-intent` | just before the write, with the plan (written before the call) |
 * | `executed` / `failed` | the write's outcome |
 * | `verified` / `verify-failed` | the symptom check after the action |
 * | `undone` / `undo-failed` | the undo after a failed verify |
 * | `escalated` | handed to a human |
 */
export const AUDIT_TYPES = [
  'invalid',
  'decision',
  'denied',
  'shadow',
  'approval-requested',
  'duplicate',
  'blocked',
  'noop',
  'execute-intent',
  'executed',
  'failed',
  'verified',
  'verify-failed',
  'undone',
  'undo-failed',
  'escalated',
] as const;
export type AuditType = (typeof AUDIT_TYPES)[number];

/** One audit record: who, what, why and under which policy rule. JSON, one line in the file. */
export interface AuditRecord {
  v: 1;
  id: string;
  /** ISO time. */
  at: string;
  type: AuditType;
  incidentId: string;
  /** The action's idempotency key (incident × action × target). */
  key: string;
  action: string;
  /** `Kind namespace/name`. */
  target: string;
  /** The target's identity, for linking in the graph. */
  ref?: { kind: string; name: string; namespace?: string; cluster?: string };
  /** Who acted: the executor instance, or the approver for an approved action. */
  actor: string;
  approvedBy?: string;
  mode?: Mode;
  rule?: string;
  policy?: string;
  /** Why: the policy's reasons, and the hypothesis behind the proposal. */
  reasons?: string[];
  capped?: string[];
  hypothesis?: { category: string; confidence: number };
  params?: Record<string, unknown>;
  plan?: ActionPlan;
  outcome?: Record<string, unknown>;
  evidence?: unknown[];
  error?: string;
  /** One line for people. */
  message: string;
}

/** A record before the log stamps it. */
export type AuditInput = Omit<AuditRecord, 'v' | 'id' | 'at'> & { at?: string };

/** Which records to read. */
export interface AuditQuery {
  incidentId?: string;
  /** Epoch ms; records at or after it. */
  since?: number;
}

/**
 * An append-only audit log. `append` resolves once the record is durable (for the file: written
 * and fsynced) and rejects otherwise; a caller that must not act without an audit trail stops
 * on a rejection. Records are never changed or removed.
 */
export interface AuditLog {
  append(record: AuditInput): Promise<AuditRecord>;
  read(query?: AuditQuery): Promise<AuditRecord[]>;
  close(): Promise<void>;
}

/** Stamps an input with `v`, an id and the time. */
export function stampRecord(record: AuditInput, now: number): AuditRecord {
  return { v: 1, id: newId('aud'), ...record, at: record.at ?? new Date(now).toISOString() };
}

/** True when a record passes the query. */
export function matchesQuery(record: AuditRecord, query: AuditQuery): boolean {
  if (query.incidentId !== undefined && record.incidentId !== query.incidentId) return false;
  if (query.since !== undefined && Date.parse(record.at) < query.since) return false;
  return true;
}

/**
 * Reads an audit JSONL file in order. A line that does not parse (a torn last write after a
 * crash) is skipped and counted; a missing file reads as empty.
 */
export async function readAuditFile(
  path: string,
  query: AuditQuery = {},
): Promise<{ records: AuditRecord[]; skipped: number }> {
  try {
    await stat(path);
  } catch {
    return { records: [], skipped: 0 };
  }
  const records: AuditRecord[] = [];
  let skipped = 0;
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    try {
      const record = JSON.parse(line) as AuditRecord;
      if (record && record.v === 1 && typeof record.at === 'string') {
        if (matchesQuery(record, query)) records.push(record);
      } else skipped++;
    } catch {
      skipped++;
    }
  }
  return { records, skipped };
}

/**
 * Ends a torn last line (a crash mid-write) with a newline, so the next record starts on a line
 * of its own instead of being glued to the fragment and lost with it.
 */
async function endTornLine(path: string, file: FileHandle): Promise<void> {
  const { size } = await stat(path);
  if (size === 0) return;
  const reader = await open(path, 'r');
  try {
    const last = Buffer.alloc(1);
    await reader.read(last, 0, 1, size - 1);
    if (last[0] !== 0x0a) {
      await file.write('\n');
      await file.sync();
    }
  } finally {
    await reader.close();
  }
}

/** A read-only view of an audit file, for `nightshift audit`: never creates or locks the file. */
export function auditFileReader(path: string): { read(query?: AuditQuery): Promise<AuditRecord[]> } {
  return { read: async (query = {}) => (await readAuditFile(path, query)).records };
}

/** Options of the file audit log. */
export interface AuditFileOptions {
  path: string;
  now?: () => number;
  /** Called after each durable append, e.g. to mirror into the graph; its failures are logged, not thrown. */
  mirror?: (record: AuditRecord) => Promise<void>;
  logger?: Logger;
}

/**
 * The audit log as a JSONL file: appends are serialized, each written and fsynced before
 * `append` resolves (and the folder fsynced when the file is new), so an acknowledged record
 * survives a crash. A torn trailing line from a crash mid-write is skipped by readers.
 */
export function openAuditFile(options: AuditFileOptions): AuditLog {
  const now = options.now ?? Date.now;
  let handle: Promise<FileHandle> | undefined;
  let tail: Promise<unknown> = Promise.resolve();
  let closed = false;

  const opened = (): Promise<FileHandle> =>
    (handle ??= (async () => {
      await mkdir(dirname(options.path), { recursive: true });
      const existed = await stat(options.path).then(
        () => true,
        () => false,
      );
      const file = await open(options.path, 'a', 0o600);
      if (existed) await endTornLine(options.path, file);
      else {
        const folder = await open(dirname(options.path), 'r');
        try {
          await folder.sync();
        } catch {
          // Some file systems do not fsync folders; the file itself is still synced per record.
        } finally {
          await folder.close();
        }
      }
      return file;
    })());

  const write = async (record: AuditRecord): Promise<void> => {
    const file = await opened();
    await file.write(`${JSON.stringify(record)}\n`);
    await file.sync();
  };

  return {
    append(input) {
      if (closed)
        return Promise.reject(
          new SystemError('audit_closed', 'the audit log is closed', { retryable: false }),
        );
      const record = stampRecord(input, now());
      const done = tail.then(() => write(record));
      tail = done.catch(() => undefined);
      return done.then(
        async () => {
          if (options.mirror) {
            await options.mirror(record).catch((error: unknown) => {
              options.logger?.warn(
                { err: error, record: record.id },
                'audit mirror failed; the file has the record',
              );
            });
          }
          return record;
        },
        (error: unknown) => {
          throw new SystemError('audit_write_failed', `could not write the audit record: ${String(error)}`, {
            cause: error,
          });
        },
      );
    },
    async read(query = {}) {
      await tail;
      return (await readAuditFile(options.path, query)).records;
    },
    async close() {
      closed = true;
      await tail;
      if (handle) await (await handle).close();
    },
  };
}

/** An in-memory audit log for tests and the property suite: same contract, no file. */
export class MemoryAuditLog implements AuditLog {
  readonly records: AuditRecord[] = [];
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  append(input: AuditInput): Promise<AuditRecord> {
    const record = stampRecord(input, this.#now());
    this.records.push(record);
    return Promise.resolve(record);
  }

  read(query: AuditQuery = {}): Promise<AuditRecord[]> {
    return Promise.resolve(this.records.filter((record) => matchesQuery(record, query)));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
