import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../shared/logger.js';
import { tempDir } from '../../../test/kit/tmp.js';
import { Journal, type FsyncPolicy, type JournalRecord } from './journal.js';

const options = (fsync: FsyncPolicy = 'always') => ({ fsync, fsyncIntervalMs: 20, logger: silentLogger() });

function record(seq: number): JournalRecord {
  return { seq, op: 'expire', kind: 'Pod', olderThan: seq * 1000 };
}

async function writeRecords(path: string, count: number, fsync: FsyncPolicy = 'always'): Promise<void> {
  const { journal } = await Journal.open(path, options(fsync));
  for (let seq = 1; seq <= count; seq++) await journal.append(record(seq));
  await journal.close();
}

describe('Journal', () => {
  it('reads back every appended record in order, under each fsync policy', async () => {
    for (const fsync of ['always', 'interval', 'never'] as const) {
      const path = join(tempDir(), 'journal.jsonl');
      await writeRecords(path, 5, fsync);
      const { journal, records } = await Journal.open(path, options());
      expect(records).toEqual([1, 2, 3, 4, 5].map(record));
      expect(journal.size).toBe((await readFile(path)).length);
      await journal.close();
    }
  });

  it('ignores and cuts off a torn last record, then appends cleanly after it', async () => {
    const path = join(tempDir(), 'journal.jsonl');
    await writeRecords(path, 3);
    const good = (await readFile(path)).length;
    await appendFile(path, '1a2b3c4d {"seq":4,"op":"exp');
    const { journal, records } = await Journal.open(path, options());
    expect(records.map((item) => item.seq)).toEqual([1, 2, 3]);
    expect((await readFile(path)).length).toBe(good);
    await journal.append(record(4));
    await journal.close();
    const reopened = await Journal.open(path, options());
    expect(reopened.records.map((item) => item.seq)).toEqual([1, 2, 3, 4]);
    await reopened.journal.close();
  });

  it('treats a complete last line with a bad checksum as torn too', async () => {
    const path = join(tempDir(), 'journal.jsonl');
    await writeRecords(path, 2);
    const content = await readFile(path, 'utf8');
    const lines = content.split('\n');
    lines[1] = lines[1]!.replace('"seq":2', '"seq":9');
    await writeFile(path, lines.join('\n'));
    const { journal, records } = await Journal.open(path, options());
    expect(records.map((item) => item.seq)).toEqual([1]);
    await journal.close();
  });

  it('refuses a damaged record followed by valid ones instead of dropping data', async () => {
    const path = join(tempDir(), 'journal.jsonl');
    await writeRecords(path, 3);
    const lines = (await readFile(path, 'utf8')).split('\n');
    lines[1] = lines[1]!.replace('"seq":2', '"seq":7');
    await writeFile(path, lines.join('\n'));
    await expect(Journal.open(path, options())).rejects.toMatchObject({ code: 'graph_journal_corrupt' });
  });
});
