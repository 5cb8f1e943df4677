import * as k8s from '@kubernetes/client-node';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { simCommand } from '../../src/cli/sim.js';
import type { CliIo } from '../../src/cli/io.js';
import { loadScenario } from '../../src/sim/scenario/load.js';
import { startSim } from '../../src/sim/sim.js';
import type { SimDeploy } from '../../src/sim/world/types.js';
import { tempDir } from '../kit/tmp.js';
import { EVALS_DIR, START } from './world-kit.js';

function firstLine(stream: PassThrough): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => reject(new Error(`no line within 20 s: ${buffer}`)), 20_000);
    stream.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const end = buffer.indexOf('\n');
      if (end !== -1) {
        clearTimeout(timer);
        resolve(buffer.slice(0, end));
      }
    });
  });
}

describe('startSim', () => {
  it('serves a scenario: the clock runs at speed, deploys land as commits, the flag provider records actions', async () => {
    const scenario = loadScenario('bad-deploy-checkout', { evalsDir: EVALS_DIR });
    const sim = await startSim({
      estate: scenario.estate,
      scenario,
      dataDir: tempDir(),
      startMs: START,
      speed: 600,
      vendors: false,
    });
    try {
      const deploys: SimDeploy[] = [];
      sim.world.on('deploy', (deploy) => deploys.push(deploy));
      const config = new k8s.KubeConfig();
      config.loadFromFile(sim.kubernetes.kubeconfigPath);
      const apps = config.makeApiClient(k8s.AppsV1Api);
      const wallStart = Date.now();
      while (sim.world.now() < START + 90_000 && Date.now() - wallStart < 10_000)
        await new Promise((resolve) => setTimeout(resolve, 20));
      expect(sim.world.now()).toBeGreaterThanOrEqual(START + 90_000);
      expect(deploys.map((deploy) => `${deploy.service}:${deploy.image}`)).toEqual([
        'catalog:shop/catalog:2.0.1',
        'checkout:shop/checkout:3.1.0',
      ]);
      const checkout = deploys[1];
      expect(checkout?.sha).toMatch(/^[0-9a-f]{40}$/);
      expect(checkout?.previousSha).toMatch(/^[0-9a-f]{40}$/);
      expect(checkout?.files).toContain('deploy/values.yaml');
      const log = await sim.world.repos?.read('shop/checkout', ['log', '--format=%H %an %s', '-n', '1']);
      expect(log?.trim()).toBe(`${checkout?.sha ?? ''} ${checkout?.author ?? ''} ${checkout?.message ?? ''}`);
      const show = await sim.world.repos?.read('shop/checkout', [
        'show',
        '--stat',
        '--format=%ad',
        '--date=unix',
        'HEAD',
      ]);
      expect(show).toContain(String((START + 60_000) / 1000));
      expect(show).toContain('deploy/values.yaml');
      const deployment = await apps.readNamespacedDeployment({ name: 'checkout', namespace: 'shop' });
      expect(deployment.spec?.template.spec?.containers[0]?.image).toBe('shop/checkout:3.1.0');

      const put = await fetch(`${sim.flags.url}/flags/new-pricing`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ value: true }),
      });
      expect(put.status).toBe(200);
      expect(await put.json()).toMatchObject({ key: 'new-pricing', value: true });
      const wrongType = await fetch(`${sim.flags.url}/flags/new-pricing`, {
        method: 'PUT',
        body: JSON.stringify({ value: 'yes' }),
      });
      expect(wrongType.status).toBe(400);
      expect((await fetch(`${sim.flags.url}/flags/nope`)).status).toBe(404);
      const evaluation = await fetch(`${sim.flags.url}/ofrep/v1/evaluate/flags/new-pricing`, {
        method: 'POST',
        body: '{}',
      });
      expect(await evaluation.json()).toMatchObject({ key: 'new-pricing', value: true, reason: 'STATIC' });
      expect(sim.world.actions().filter((action) => action.kind === 'flags.set')).toMatchObject([
        { target: 'new-pricing', via: 'flags', details: { value: true, previous: false } },
      ]);
      expect(sim.world.requestLog.writes('flags')).toHaveLength(2);
    } finally {
      await sim.stop();
    }
  });
});

describe('nightshift sim', () => {
  it('prints one JSON line with every address once ready and stops on the signal', async () => {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const controller = new AbortController();
    const io: CliIo = {
      stdout,
      stderr,
      env: { LOG_LEVEL: 'silent' },
      cwd: EVALS_DIR,
      signal: controller.signal,
    };
    const exit = simCommand(['--estate', 'minimal', '--speed', '10'], io);
    const line = JSON.parse(await firstLine(stdout)) as Record<string, unknown> & {
      kubernetes: { url: string; kubeconfig: string };
    };
    expect(line).toMatchObject({ ready: true, estate: 'minimal', scenario: null, speed: 10 });
    for (const key of ['flags', 'datadog', 'prometheus', 'slackApi', 'pagerduty', 'anthropic'])
      expect(String(line[key])).toMatch(/^http:\/\/127\.0\.0\.1:\d+/);
    const config = new k8s.KubeConfig();
    config.loadFromFile(line.kubernetes.kubeconfig);
    const pods = await config.makeApiClient(k8s.CoreV1Api).listNamespacedPod({ namespace: 'app' });
    expect(pods.items.length).toBe(6);
    controller.abort();
    expect(await exit).toBe(0);
  });

  it('refuses a broken scenario with the file, the field and the reason, exit 2', async () => {
    const dir = tempDir();
    const { writeFileSync } = await import('node:fs');
    writeFileSync(
      `${dir}/broken.yaml`,
      'apiVersion: nightshift.dev/v1\nkind: Scenario\nname: broken\nestate: shop\nspeed: -3\n',
    );
    const stderr = new PassThrough();
    const chunks: string[] = [];
    stderr.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
    const io: CliIo = {
      stdout: new PassThrough(),
      stderr,
      env: {},
      cwd: dir,
      signal: new AbortController().signal,
    };
    expect(await simCommand(['--scenario', 'broken.yaml'], io)).toBe(2);
    expect(chunks.join('')).toMatch(/^scenario file broken\.yaml: speed: .+\n$/);
  });
});
