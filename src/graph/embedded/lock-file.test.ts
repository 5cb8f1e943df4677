import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../shared/logger.js';
import { tempDir } from '../../../test/kit/tmp.js';
import { acquireLock } from './lock-file.js';

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid as number;
}

describe('acquireLock', () => {
  it('writes the owner pid and removes the file on release', async () => {
    const path = join(tempDir(), 'LOCK');
    const lock = await acquireLock(path, silentLogger());
    expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject({ pid: process.pid, host: hostname() });
    await lock.release();
    await lock.release();
    await expect(readFile(path)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses a second holder in the same process', async () => {
    const path = join(tempDir(), 'LOCK');
    const lock = await acquireLock(path, silentLogger());
    await expect(acquireLock(path, silentLogger())).rejects.toMatchObject({ code: 'graph_locked' });
    await lock.release();
    const again = await acquireLock(path, silentLogger());
    await again.release();
  });

  it('refuses a lock held by a live process, naming it', async () => {
    const path = join(tempDir(), 'LOCK');
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
    try {
      await writeFile(
        path,
        JSON.stringify({ pid: child.pid, host: hostname(), since: new Date().toISOString() }),
      );
      const error = await acquireLock(path, silentLogger()).catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: 'graph_locked' });
      expect(String((error as Error).message)).toContain(String(child.pid));
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('takes over a lock left by a process that is gone', async () => {
    const path = join(tempDir(), 'LOCK');
    await writeFile(
      path,
      JSON.stringify({ pid: await deadPid(), host: hostname(), since: new Date().toISOString() }),
    );
    const lock = await acquireLock(path, silentLogger());
    expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject({ pid: process.pid });
    await lock.release();
  });

  it('refuses a lock of another host', async () => {
    const path = join(tempDir(), 'LOCK');
    await writeFile(
      path,
      JSON.stringify({ pid: 1, host: 'elsewhere.example', since: new Date().toISOString() }),
    );
    await expect(acquireLock(path, silentLogger())).rejects.toThrow(/elsewhere\.example/);
  });

  it('refuses a fresh unreadable lock and takes over an old one', async () => {
    const path = join(tempDir(), 'LOCK');
    await writeFile(path, '{"pi');
    await expect(acquireLock(path, silentLogger())).rejects.toMatchObject({ code: 'graph_locked' });
    const { utimes } = await import('node:fs/promises');
    const old = new Date(Date.now() - 60_000);
    await utimes(path, old, old);
    const lock = await acquireLock(path, silentLogger());
    await lock.release();
  });
});
