import { Queue } from 'bullmq';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { spawnDaemon, waitFor, type DaemonProcess } from '../kit/daemon.js';
import { testPrefix } from '../kit/prefix.js';
import { freePort } from '../kit/ports.js';
import { startPrivateRedis } from '../kit/redis-setup.js';
import { tempDir } from '../kit/tmp.js';

const prefix = testPrefix(import.meta.filename);
const running: DaemonProcess[] = [];

afterEach(async () => {
  for (const daemon of running.splice(0)) {
    if (daemon.child.exitCode === null) daemon.child.kill('SIGKILL');
    await daemon.exited;
  }
});

async function start(env: Record<string, string>, entry?: string): Promise<DaemonProcess> {
  const daemon = await spawnDaemon({
    env: { NIGHTSHIFT_PORT: '0', NIGHTSHIFT_QUEUE_PREFIX: prefix, NIGHTSHIFT_HEARTBEAT_MS: '500', ...env },
    ...(entry ? { entry } : {}),
  });
  running.push(daemon);
  return daemon;
}

async function readiness(
  url: string,
): Promise<{ status: number; body: { dependencies: Record<string, { state: string }> } }> {
  const response = await fetch(`${url}/readyz`);
  return { status: response.status, body: (await response.json()) as never };
}

describe('the daemon', () => {
  it('is live and ready with Redis, and reports readiness per dependency', async () => {
    const daemon = await start({ REDIS_URL: inject('redisUrl') });
    expect((await fetch(`${daemon.url}/healthz`)).status).toBe(200);
    await waitFor(async () => (await readiness(daemon.url)).status === 200);
    const ready = await readiness(daemon.url);
    expect(ready.body.dependencies.redis?.state).toBe('ok');
    expect(ready.body.dependencies.graph?.state).toBe('ok');
    await waitFor(async () => (await readiness(daemon.url)).body.dependencies.loop?.state === 'ok');
    const metrics = await (await fetch(`${daemon.url}/metrics`)).text();
    expect(metrics).toMatch(/nightshift_build_info\{version="\d+\.\d+\.\d+",node="v20/);
  });

  it('reports Redis down with 503, keeps running, and recovers when Redis returns', async () => {
    const port = await freePort();
    let redis = await startPrivateRedis(port);
    const daemon = await start({ REDIS_URL: redis.url });
    await waitFor(async () => (await readiness(daemon.url)).status === 200);

    redis.process.kill('SIGKILL');
    await waitFor(async () => (await readiness(daemon.url)).status === 503, 10_000);
    const down = await readiness(daemon.url);
    expect(down.body.dependencies.redis?.state).toBe('down');
    expect((await fetch(`${daemon.url}/healthz`)).status).toBe(200);
    expect(daemon.child.exitCode).toBeNull();

    redis = await startPrivateRedis(port);
    try {
      await waitFor(async () => (await readiness(daemon.url)).status === 200, 15_000);
      expect((await readiness(daemon.url)).body.dependencies.redis?.state).toBe('ok');
    } finally {
      daemon.child.kill('SIGTERM');
      await daemon.exited;
      redis.process.kill('SIGKILL');
    }
  });

  it('finishes a running job on SIGTERM and exits 0 within the bound', async () => {
    const redisUrl = inject('redisUrl');
    const daemon = await start(
      { REDIS_URL: redisUrl, NIGHTSHIFT_SHUTDOWN_TIMEOUT_MS: '5000' },
      'test/fixtures/daemon-with-slow-stage.ts',
    );
    const marker = join(tempDir(), 'finished');
    const queue = new Queue('slow', { connection: { url: redisUrl }, prefix });
    try {
      const job = await queue.add('slow', { v: 1, ms: 1_500, marker });
      await waitFor(async () => (await job.getState()) === 'active');
      const signalledAt = Date.now();
      daemon.child.kill('SIGTERM');
      expect(await daemon.exited).toBe(0);
      expect(Date.now() - signalledAt).toBeLessThan(5_000);
      expect(readFileSync(marker, 'utf8')).toBe('done on attempt 1');
      expect(await job.getState()).toBe('completed');
    } finally {
      await queue.close();
    }
  });

  it('returns a job that outlives the bound to the queue and still exits 0', async () => {
    const redisUrl = inject('redisUrl');
    const daemon = await start(
      { REDIS_URL: redisUrl, NIGHTSHIFT_SHUTDOWN_TIMEOUT_MS: '1000' },
      'test/fixtures/daemon-with-slow-stage.ts',
    );
    const marker = join(tempDir(), 'never');
    const queue = new Queue('slow', { connection: { url: redisUrl }, prefix });
    try {
      const job = await queue.add(
        'slow',
        { v: 1, ms: 30_000, marker },
        { attempts: 3, jobId: `long-${Date.now()}` },
      );
      await waitFor(async () => (await job.getState()) === 'active');
      const signalledAt = Date.now();
      daemon.child.kill('SIGTERM');
      expect(await daemon.exited).toBe(0);
      expect(Date.now() - signalledAt).toBeLessThan(3_000);
      expect(existsSync(marker)).toBe(false);
      expect(['waiting', 'delayed', 'wait']).toContain(await job.getState());
    } finally {
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });

  it('exits at once on a second signal', async () => {
    const redisUrl = inject('redisUrl');
    const daemon = await start(
      { REDIS_URL: redisUrl, NIGHTSHIFT_SHUTDOWN_TIMEOUT_MS: '20000' },
      'test/fixtures/daemon-with-slow-stage.ts',
    );
    const queue = new Queue('slow', { connection: { url: redisUrl }, prefix });
    try {
      const job = await queue.add(
        'slow',
        { v: 1, ms: 30_000, marker: join(tempDir(), 'x') },
        { jobId: `second-${Date.now()}` },
      );
      await waitFor(async () => (await job.getState()) === 'active');
      daemon.child.kill('SIGTERM');
      await new Promise((resolve) => setTimeout(resolve, 300));
      const signalledAt = Date.now();
      daemon.child.kill('SIGTERM');
      expect(await daemon.exited).toBe(130);
      expect(Date.now() - signalledAt).toBeLessThan(2_000);
    } finally {
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });

  it('never shows a configured secret in its logs or HTTP responses', async () => {
    const canary = 'canary-7f3a9c1e5b2d4f60';
    const daemon = await start({
      REDIS_URL: inject('redisUrl'),
      NIGHTSHIFT_LOG_LEVEL: 'trace',
      ANTHROPIC_API_KEY: `sk-ant-${canary}`,
      NIGHTSHIFT_SLACK_ENABLED: 'true',
      SLACK_BOT_TOKEN: `xoxb-${canary}`,
      SLACK_SIGNING_SECRET: `signing-${canary}`,
    });
    const bodies: string[] = [];
    for (const path of ['/healthz', '/readyz', '/metrics', '/nope', `/${canary}`]) {
      const response = await fetch(`${daemon.url}${path}`, {
        headers: { authorization: `Bearer ${canary}` },
      });
      bodies.push(JSON.stringify([...response.headers]), await response.text());
    }
    daemon.child.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);
    const everything = [
      ...bodies.filter((body) => !body.includes(`no route for GET /${canary}`)),
      daemon.output(),
    ].join('\n');
    expect(everything).toContain('nightshift listening');
    expect(everything).not.toContain(canary);
  });

  it('queues an authenticated Alertmanager delivery before answering 202, and refuses a forged one', async () => {
    const token = 'am-token-for-the-daemon-test';
    const daemon = await start({ REDIS_URL: inject('redisUrl'), NIGHTSHIFT_ALERTMANAGER_TOKEN: token });
    const body = readFileSync(
      join(import.meta.dirname, '../fixtures/signals/alertmanager/kube-pod-crash-looping-firing.json'),
      'utf8',
    );
    const post = (authorization: string): Promise<Response> =>
      fetch(`${daemon.url}/webhooks/alertmanager`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization },
        body,
      });
    const forged = await post('Bearer not-the-token');
    expect(forged.status).toBe(401);
    expect(((await forged.json()) as { error: { code: string } }).error.code).toBe('unauthorized');

    const accepted = await post(`Bearer ${token}`);
    expect(accepted.status).toBe(202);
    const report = (await accepted.json()) as { accepted: number };
    expect(report.accepted).toBeGreaterThan(0);
    const queue = new Queue('ingest', { connection: { url: inject('redisUrl') }, prefix });
    try {
      const counts = await queue.getJobCounts('wait', 'active', 'completed', 'failed', 'delayed');
      const total = Object.values(counts).reduce((sum, count) => sum + count, 0);
      expect(total).toBeGreaterThanOrEqual(report.accepted);
    } finally {
      await queue.close();
    }
  });

  it('refuses to start with an invalid policy, one line per problem, exit 2', async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'broken.yaml'),
      'apiVersion: nightshift.dev/v1\nkind: Policy\nmetadata: { name: broken }\nspec:\n  rules:\n    - name: r\n      match: { actions: ["k8s.*"] }\n      when: "action.kind =="\n      mode: autonomous\n',
    );
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'run'], {
      cwd: join(import.meta.dirname, '../..'),
      env: {
        PATH: process.env.PATH ?? '',
        NIGHTSHIFT_PORT: '0',
        NIGHTSHIFT_DATA_DIR: tempDir(),
        NIGHTSHIFT_POLICY_DIR: dir,
        REDIS_URL: inject('redisUrl'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
    expect(stderr).toMatch(/^config: policy\.dir: .*broken\.yaml/m);
  });
});
