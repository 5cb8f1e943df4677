import { open, type FileHandle } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { SystemError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { EntityKind, EntityWrite, EventWrite, RelationshipWrite } from '../schema.js';

/** When the journal asks the disk to persist what it wrote. */
export type FsyncPolicy = 'always' | 'interval' | 'never';

/** One acknowledged batch (or expiry), in the order it was applied. */
export type JournalRecord =
  | { seq: number; op: 'entities'; items: EntityWrite[] }
  | { seq: number; op: 'relationships'; items: RelationshipWrite[] }
  | { seq: number; op: 'events'; items: EventWrite[] }
  | {
      seq: number;
      op: 'write';
      entities: EntityWrite[];
      relationships: RelationshipWrite[];
      events: EventWrite[];
    }
  | { seq: number; op: 'expire'; kind: EntityKind; olderThan: number };

/** A record without its sequence number; the journal assigns it. */
export type JournalEntry = JournalRecord extends infer R
  ? R extends JournalRecord
    ? Omit<R, 'seq'>
    : never
  : never;

export interface JournalOptions {
  fsync: FsyncPolicy;
  /** For `interval`: how often to fsync when something was written. */
  fsyncIntervalMs: number;
  logger: Logger;
}

const HEX = /^[0-9a-f]{8}$/;
const NEWLINE = Buffer.from('\n');

function checksum(payload: Buffer): string {
  return crc32(payload).toString(16).padStart(8, '0');
}

/**
 * The append-only journal of the embedded store: one line per acknowledged batch,
 * `<crc32 of the JSON, 8 hex> <JSON>\n`. A record counts only when its whole line, newline
 * included, is on disk with a matching checksum.
 *
 * Recovery (`open`): records are read in order; a bad or unterminated record at the very end is
 * a write torn by a crash — it was never acknowledged — so it is cut off (the file is truncated
 * to the last good record) and a warning logged. A bad record followed by good ones is
 * corruption, not a torn write: `open` refuses with `graph_journal_corrupt` rather than silently
 * dropping acknowledged data.
 *
 * Durability per `fsync`: `always` fsyncs before `append` resolves (survives power loss);
 * `interval` fsyncs in the background every `fsyncIntervalMs` (survives a crash of the process,
 * may lose that long of writes on power loss); `never` leaves it to the OS.
 */
export class Journal {
  readonly path: string;
  #handle: FileHandle;
  #size: number;
  #dirty = false;
  #timer: NodeJS.Timeout | undefined;
  #failed: Error | undefined;
  readonly #options: JournalOptions;

  private constructor(path: string, handle: FileHandle, size: number, options: JournalOptions) {
    this.path = path;
    this.#handle = handle;
    this.#size = size;
    this.#options = options;
    if (options.fsync === 'interval') {
      this.#timer = setInterval(() => void this.#syncIfDirty(), options.fsyncIntervalMs);
      this.#timer.unref();
    }
  }

  /** Opens (creating if needed) and recovers the journal; returns it with its valid records. */
  static async open(
    path: string,
    options: JournalOptions,
  ): Promise<{ journal: Journal; records: JournalRecord[] }> {
    const handle = await open(path, 'a+');
    try {
      const content = await handle.readFile();
      const { records, validBytes } = parse(content, path);
      if (validBytes < content.length) {
        options.logger.warn(
          { path, validBytes, droppedBytes: content.length - validBytes },
          'graph journal ends with a torn record (a write interrupted by a crash); ignoring it',
        );
        await handle.truncate(validBytes);
        await handle.sync();
      }
      return { journal: new Journal(path, handle, validBytes, options), records };
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /** True once a failed write could not be undone; every later append is refused. */
  get failed(): boolean {
    return this.#failed !== undefined;
  }

  /** Bytes of valid records in the file. */
  get size(): number {
    return this.#size;
  }

  /**
   * Appends one record; resolves once it is written (and fsynced under `always`). If the write
   * fails, the partial record is cut off again; if even that fails the journal refuses all
   * further appends, since a record after a torn one would read as corruption.
   */
  append(record: JournalRecord): Promise<void> {
    return this.appendMany([record]);
  }

  /**
   * Appends records in order in one write (a group commit): all of them are written, or, when
   * the write fails, none (the partial write is cut off as for `append`).
   */
  async appendMany(records: readonly JournalRecord[]): Promise<void> {
    if (this.#failed) {
      throw new SystemError(
        'graph_journal_failed',
        `graph journal ${this.path} failed earlier; reopen the store`,
        {
          cause: this.#failed,
          retryable: false,
        },
      );
    }
    if (records.length === 0) return;
    const lines = records.map((record) => {
      const payload = Buffer.from(JSON.stringify(record), 'utf8');
      return Buffer.concat([Buffer.from(`${checksum(payload)} `, 'latin1'), payload, NEWLINE]);
    });
    const data = lines.length === 1 ? (lines[0] as Buffer) : Buffer.concat(lines);
    try {
      let written = 0;
      while (written < data.length) {
        // Usually one write; a short one (rare: signals, full disks) is finished in order.
        written += (await this.#handle.write(data, written, data.length - written, null)).bytesWritten;
      }
      if (this.#options.fsync === 'always') await this.#handle.datasync();
      else this.#dirty = true;
      this.#size += data.length;
    } catch (error) {
      try {
        await this.#handle.truncate(this.#size);
      } catch (truncateError) {
        this.#failed = truncateError instanceof Error ? truncateError : new Error(String(truncateError));
      }
      throw new SystemError('graph_journal_write_failed', `could not write the graph journal ${this.path}`, {
        cause: error,
      });
    }
  }

  /** Writes anything buffered to disk. */
  async sync(): Promise<void> {
    await this.#handle.datasync();
    this.#dirty = false;
  }

  async #syncIfDirty(): Promise<void> {
    if (!this.#dirty) return;
    this.#dirty = false;
    try {
      await this.#handle.datasync();
    } catch (error) {
      this.#options.logger.error({ err: error, path: this.path }, 'graph journal fsync failed');
    }
  }

  /** Flushes and closes; safe to call twice. */
  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    try {
      if (this.#dirty) await this.#handle.datasync();
    } finally {
      this.#dirty = false;
      await this.#handle.close().catch(() => undefined);
    }
  }
}

function parse(content: Buffer, path: string): { records: JournalRecord[]; validBytes: number } {
  const records: JournalRecord[] = [];
  let offset = 0;
  while (offset < content.length) {
    const newline = content.indexOf(0x0a, offset);
    const end = newline === -1 ? content.length : newline;
    const record = newline === -1 ? undefined : decode(content, offset, end);
    if (record === undefined) {
      if (newline === -1 || isOnlyBadTail(content, newline + 1)) return { records, validBytes: offset };
      throw new SystemError(
        'graph_journal_corrupt',
        `graph journal ${path} has a damaged record at byte ${offset} followed by valid ones; ` +
          'restore the data directory from a backup, or move the journal aside to start from the last snapshot',
        { retryable: false, data: { path, offset } },
      );
    }
    records.push(record);
    offset = end + 1;
  }
  return { records, validBytes: offset };
}

/** True when nothing after `from` decodes as a record: the damage is a torn tail, not corruption. */
function isOnlyBadTail(content: Buffer, from: number): boolean {
  let offset = from;
  while (offset < content.length) {
    const newline = content.indexOf(0x0a, offset);
    if (newline === -1) return true;
    if (decode(content, offset, newline) !== undefined) return false;
    offset = newline + 1;
  }
  return true;
}

function decode(content: Buffer, start: number, end: number): JournalRecord | undefined {
  if (end - start < 10 || content[start + 8] !== 0x20) return undefined;
  const expected = content.toString('latin1', start, start + 8);
  if (!HEX.test(expected)) return undefined;
  const payload = content.subarray(start + 9, end);
  if (checksum(payload) !== expected) return undefined;
  try {
    return JSON.parse(payload.toString('utf8')) as JournalRecord;
  } catch {
    return undefined;
  }
}
