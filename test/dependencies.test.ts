import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  dependencies: Record<string, string>;
};

/** Packages without a root entry point, imported through the entry we use. */
const entryPoints: Record<string, string> = {
  '@modelcontextprotocol/sdk': '@modelcontextprotocol/sdk/server/mcp.js',
};

describe('runtime dependencies', () => {
  it.each(Object.keys(manifest.dependencies))('%s imports on this Node.js', async (name) => {
    const loaded: unknown = await import(entryPoints[name] ?? name);
    expect(loaded).toBeTruthy();
  });

  it('loads the Kubernetes client and Bolt together (the undici 8 crash shows here)', async () => {
    const [kubernetes, bolt] = await Promise.all([import('@kubernetes/client-node'), import('@slack/bolt')]);
    expect(typeof kubernetes.KubeConfig).toBe('function');
    expect(typeof bolt.App).toBe('function');
  });
});
