import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createNodeMiddleware, Webhooks } from '@octokit/webhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { deliverGithub, githubSignature256 } from '../../../src/sim/vendors/github/deliver.js';
import {
  deploymentPayload,
  deploymentStatusPayload,
  githubDeploy,
  pushPayload,
} from '../../../src/sim/vendors/github/payloads.js';
import { T0 } from './fake-world.js';

const SECRET = 'github-webhook-secret';
const REAL = new URL('./fixtures/github/', import.meta.url);

function real(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(path, REAL), 'utf8')) as Record<string, unknown>;
}

/** Keys of `expected` (recursively, first array element) that `actual` lacks; URL templates and app-only fields aside. */
function missingKeys(expected: unknown, actual: unknown, path = ''): string[] {
  if (typeof expected !== 'object' || expected === null) return [];
  if (Array.isArray(expected))
    return expected.length > 0 && Array.isArray(actual) && actual.length > 0
      ? missingKeys(expected[0], actual[0], `${path}[0]`)
      : [];
  if (typeof actual !== 'object' || actual === null) return [path];
  const missing: string[] = [];
  for (const [key, value] of Object.entries(expected)) {
    if (
      key.endsWith('_url') ||
      ['installation', 'performed_via_github_app', 'custom_properties'].includes(key)
    )
      continue;
    if (path.startsWith('repository') || path.endsWith('owner')) {
      if (
        ![
          'id',
          'node_id',
          'name',
          'full_name',
          'private',
          'owner',
          'html_url',
          'url',
          'default_branch',
          'login',
          'type',
        ].includes(key)
      )
        continue;
    }
    if (!(key in actual)) missing.push(`${path}.${key}`);
    else
      missing.push(
        ...missingKeys(value, (actual as Record<string, unknown>)[key], `${path}.${key}`.replace(/^\./, '')),
      );
  }
  return missing;
}

const deploy = githubDeploy(
  {
    service: 'checkout',
    image: 'shop/checkout:3.1.0',
    repo: 'shop/checkout',
    sha: 'a'.repeat(40),
    previousSha: 'b'.repeat(40),
    message: 'Use the new pricing engine',
    author: 'dana',
    files: ['src/pricing.ts'],
  },
  { t: T0 + 60_000, environment: 'prod' },
);

describe('GitHub webhook deliveries', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
  });

  async function receiver(): Promise<{
    url: string;
    received: Array<{ name: string; id: string; payload: Record<string, unknown> }>;
  }> {
    const webhooks = new Webhooks({ secret: SECRET });
    const received: Array<{ name: string; id: string; payload: Record<string, unknown> }> = [];
    webhooks.onAny(({ id, name, payload }) => {
      received.push({ id, name, payload });
    });
    const quiet = {
      debug: () => undefined,
      info: () => undefined,
      warn: () => undefined,
      error: () => undefined,
    };
    const middleware = createNodeMiddleware(webhooks, { path: '/github/webhooks', log: quiet });
    const server = createServer((request, response) => void middleware(request, response));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/github/webhooks`, received };
  }

  it('builds push, deployment and deployment_status payloads shaped like the real examples', () => {
    expect(missingKeys(real('push.json'), pushPayload(deploy))).toEqual([]);
    expect(missingKeys(real('push.with-new-branch.json'), pushPayload(deploy))).toEqual([]);
    expect(missingKeys(real('deployment.json'), deploymentPayload(deploy))).toEqual([]);
    expect(missingKeys(real('deployment_status.json'), deploymentStatusPayload(deploy, 'success'))).toEqual(
      [],
    );
    const push = pushPayload(deploy) as {
      after: string;
      before: string;
      head_commit: { modified: string[]; message: string };
      repository: { full_name: string };
    };
    expect(push).toMatchObject({
      after: deploy.sha,
      before: deploy.previousSha,
      repository: { full_name: 'shop/checkout' },
    });
    expect(push.head_commit).toMatchObject({
      modified: ['src/pricing.ts'],
      message: 'Use the new pricing engine',
    });
    expect(deploymentPayload(deploy)).toMatchObject({
      deployment: { sha: deploy.sha, environment: 'prod', payload: { image: 'shop/checkout:3.1.0' } },
    });
    expect(pushPayload(deploy)).toEqual(pushPayload(deploy));
  });

  it('signs deliveries so that @octokit/webhooks verifies and receives them', async () => {
    const { url, received } = await receiver();
    const push = await deliverGithub(url, SECRET, 'push', pushPayload(deploy));
    const created = await deliverGithub(url, SECRET, 'deployment', deploymentPayload(deploy));
    const status = await deliverGithub(
      url,
      SECRET,
      'deployment_status',
      deploymentStatusPayload(deploy, 'success'),
    );
    expect([push.status, created.status, status.status]).toEqual([200, 200, 200]);
    expect(received.map((event) => event.name)).toEqual(['push', 'deployment', 'deployment_status']);
    expect(received[0]?.id).toBe(push.deliveryId);
    expect((received[2]?.payload.deployment_status as { state: string }).state).toBe('success');

    const forged = await deliverGithub(url, 'not-the-secret', 'push', pushPayload(deploy));
    expect(forged.status).toBeGreaterThanOrEqual(400);
    expect(received).toHaveLength(3);
  });

  it('computes X-Hub-Signature-256 as GitHub documents it', async () => {
    const body = JSON.stringify(pushPayload(deploy));
    const signature = githubSignature256(SECRET, body);
    expect(signature).toBe(`sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`);
    expect(await new Webhooks({ secret: SECRET }).verify(body, signature)).toBe(true);
    expect(await new Webhooks({ secret: 'other' }).verify(body, signature)).toBe(false);
  });
});
