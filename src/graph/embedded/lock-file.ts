import { link, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { SystemError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';

interface LockContent {
  pid: number;
  host: string;
  since: string;
}

/** A held lock; `release` is safe to call twice. */
export interface HeldLock {
  readonly path: string;
  release(): Promise<void>;
}

/** Lock files this process holds, so a second open in the same process is refused too. */
const heldHere = new Set<string>();

/** A lock file younger than this with unreadable content may be mid-write by its owner. */
const UNREADABLE_GRACE_MS = 5_000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function locked(path: string, why: string): SystemError {
  return new SystemError('graph_locked', `the graph data directory is in use: ${why} (lock file ${path})`, {
    retryable: false,
    data: { path },
  });
}

/**
 * Takes the lock file `path` so that only one process writes a data directory. The file holds
 * the owner's pid and host. A lock left by a process that no longer runs on this host (crash,
 * kill -9) is taken over with a warning; a lock of a live process, of another host, or one this
 * process already holds, is refused with `graph_locked`.
 */
export async function acquireLock(path: string, logger: Logger): Promise<HeldLock> {
  const absolute = resolve(path);
  if (heldHere.has(absolute)) throw locked(absolute, 'this process already has it open');
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const handle = await open(absolute, 'wx');
      const content: LockContent = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
      await handle.writeFile(`${JSON.stringify(content)}\n`);
      await handle.sync();
      await handle.close();
      heldHere.add(absolute);
      let released = false;
      return {
        path: absolute,
        async release(): Promise<void> {
          if (released) return;
          released = true;
          heldHere.delete(absolute);
          await unlink(absolute).catch(() => undefined);
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = await readOwner(absolute);
    if (owner === 'gone') continue;
    if (owner === 'unreadable') {
      const age =
        Date.now() -
        (await stat(absolute).then(
          (info) => info.mtimeMs,
          () => Date.now(),
        ));
      if (age < UNREADABLE_GRACE_MS) throw locked(absolute, 'another process is opening it');
      logger.warn({ path: absolute }, 'taking over an unreadable graph lock file');
    } else if (owner.host !== hostname()) {
      throw locked(
        absolute,
        `process ${owner.pid} on host ${owner.host}; delete the lock file if that host is gone`,
      );
    } else if (owner.pid !== process.pid && alive(owner.pid)) {
      throw locked(absolute, `process ${owner.pid} has it open; stop it or use another graph data directory`);
    } else {
      // A dead owner, or our own pid reused after a restart (e.g. pid 1 in a container) without us holding it.
      logger.warn(
        { path: absolute, pid: owner.pid },
        'taking over a stale graph lock left by a process that is gone',
      );
    }
    await takeOver(absolute, owner);
  }
  throw locked(absolute, 'another process keeps taking it');
}

async function readOwner(path: string): Promise<LockContent | 'gone' | 'unreadable'> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw error;
  }
  try {
    const content = JSON.parse(text) as Partial<LockContent>;
    if (typeof content.pid === 'number' && typeof content.host === 'string') return content as LockContent;
  } catch {
    // Falls through: a lock written halfway.
  }
  return 'unreadable';
}

/**
 * Removes a stale lock without removing a fresh one another process may have just written in
 * its place: the lock is moved aside atomically, and if what was moved is not the stale lock we
 * judged, it is linked back.
 */
async function takeOver(path: string, stale: LockContent | 'unreadable'): Promise<void> {
  const aside = `${path}.${process.pid}.stale`;
  try {
    await rename(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  const moved = await readOwner(aside);
  const same =
    stale === 'unreadable'
      ? moved === 'unreadable'
      : typeof moved === 'object' && moved.pid === stale.pid && moved.since === stale.since;
  if (!same) await link(aside, path).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
}
