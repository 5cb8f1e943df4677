import { spawn } from 'node:child_process';
import { appendFile, readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { EmbeddedGraphStore } from '../../src/graph/embedded/embedded-store.js';
import { ManualClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { tempDir } from '../kit/tmp.js';
import { nodeOf, podId, PODS_PER_BATCH } from './crash-writer.js';

const writer = join(dirname(fileURLToPath(import.meta.url)), 'crash-writer.ts');

async function acknowledged(file: string): Promise<number[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((line) => /^\d+$/.test(line))
    .map(Number);
}

async function runAndKill(
  dataDir: string,
  ackFile: string,
  fsync: string,
  atLeast: number,
): Promise<number[]> {
  const child = spawn(process.execPath, ['--import', 'tsx', writer, dataDir, ackFile, fsync], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.once('exit', (_code, signal) => resolve(signal)),
  );
  const deadline = Date.now() + 60_000;
  while ((await acknowledged(ackFile)).length < atLeast) {
    if (child.exitCode !== null) throw new Error(`the writer exited early: ${stderr}`);
    if (Date.now() > deadline) throw new Error(`the writer acknowledged too little in 60 s: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 40)));
  child.kill('SIGKILL');
  expect(await exited).toBe('SIGKILL');
  return acknowledged(ackFile);
}

describe('embedded store: kill -9 while writing', () => {
  for (const fsync of ['always', 'never'] as const) {
    it(`keeps every acknowledged batch and opens again (fsync ${fsync})`, { timeout: 120_000 }, async () => {
      const dataDir = tempDir('nightshift-crash-');
      const ackFile = join(tempDir('nightshift-crash-acks-'), 'acks');
      const acks = await runAndKill(dataDir, ackFile, fsync, 40);
      expect(acks.length).toBeGreaterThanOrEqual(40);
      // A write torn by the kill at the very end must not stop the store from opening.
      const journals = (await readdir(dataDir)).filter((name) => name.startsWith('journal.')).sort();
      await appendFile(join(dataDir, journals[journals.length - 1] as string), '00000000 {"seq":');

      const store = await EmbeddedGraphStore.open({
        dataDir,
        logger: silentLogger(),
        clock: new ManualClock(),
      });
      try {
        for (const batch of acks) {
          expect(await store.get(nodeOf(batch)), `node of batch ${batch}`).not.toBeNull();
          const pods = await store.neighbors(nodeOf(batch), {
            kinds: ['RUNS_ON'],
            direction: 'in',
            limit: 1000,
          });
          expect(pods.length, `pods of batch ${batch}`).toBe(PODS_PER_BATCH);
          expect((await store.get(podId(batch, 7)))?.properties).toMatchObject({ batch, index: 7 });
          expect((await store.events(nodeOf(batch))).map((event) => event.id)).toEqual([`ev-${batch}`]);
        }
        // The batch in flight at the kill is all there or not there at all.
        const next = Math.max(...acks) + 1;
        const present = (await store.find({ kind: 'Pod', where: { batch: next }, limit: 1000 })).length;
        expect([0, PODS_PER_BATCH]).toContain(present);
        const stats = await store.stats();
        expect(stats.entitiesByKind.Pod).toBeGreaterThanOrEqual(acks.length * PODS_PER_BATCH);
        // The store stays writable after recovery.
        await store.upsertEntities([{ id: 'service:after-crash', kind: 'Service', source: 'test' }]);
      } finally {
        await store.close();
      }
    });
  }
});
