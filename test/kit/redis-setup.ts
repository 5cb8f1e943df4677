import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { freePort } from './ports.js';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

/** Answers true when something replies +PONG to PING at host:port within 1 s. */
export function redisAnswers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

/** Starts a private, diskless redis-server on a free loopback port; resolves once it answers. */
export async function startPrivateRedis(
  port?: number,
): Promise<{ url: string; port: number; process: ChildProcess; dir: string }> {
  const chosen = port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'nightshift-redis-'));
  const child = spawn(
    'redis-server',
    ['--port', String(chosen), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: 'ignore' },
  );
  for (let attempt = 0; attempt < 100; attempt++) {
    if (await redisAnswers('127.0.0.1', chosen))
      return { url: `redis://127.0.0.1:${chosen}`, port: chosen, process: child, dir };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`redis-server did not answer on port ${chosen} within 5 s`);
}

/**
 * Provides `redisUrl` to every test: the configured address (REDIS_URL, default
 * redis://127.0.0.1:6379) when it answers, else a private redis-server when one is on PATH.
 */
export default async function setup(project: TestProject): Promise<() => void> {
  const url = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const host = url.hostname;
  const port = Number(url.port || 6379);
  if (await redisAnswers(host, port)) {
    project.provide('redisUrl', url.toString());
    return () => undefined;
  }
  try {
    const redis = await startPrivateRedis();
    process.stderr.write(
      `[test] no Redis at ${host}:${port}; started a private redis-server on ${redis.port}\n`,
    );
    project.provide('redisUrl', redis.url);
    return () => {
      redis.process.kill('SIGTERM');
      rmSync(redis.dir, { recursive: true, force: true });
    };
  } catch (error) {
    throw new Error(
      `The tests need Redis: nothing answers at ${host}:${port} and no redis-server could be started ` +
        `(${String(error)}). Install it (apt-get install -y redis-server) or set REDIS_URL.`,
      { cause: error },
    );
  }
}
