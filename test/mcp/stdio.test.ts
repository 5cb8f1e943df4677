import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { mcpCommand } from '../../src/cli/mcp.js';
import { systemClock } from '../../src/shared/clock.js';
import { tempDir } from '../kit/tmp.js';
import { call, exerciseEveryTool, policiesDir, root, type ProposalOut } from './kit.js';
import { ids, openTestGraph, seedShop } from './seed.js';

const fixture = 'test/fixtures/mcp/serve-stdio.ts';

function writeConfig(dataDir: string): string {
  const file = join(dataDir, 'nightshift.yaml');
  writeFileSync(file, `dataDir: ${JSON.stringify(dataDir)}\ngraph:\n  fsync: never\nlog:\n  level: warn\n`);
  return file;
}

function captureIo() {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  return {
    io: { stdout, stderr, env: {}, cwd: root, signal: new AbortController().signal },
    out: () => out,
    err: () => err,
  };
}

describe('nightshift mcp (stdio)', () => {
  it('serves every tool from the configured graph to a real client, then releases the graph', async () => {
    const dataDir = tempDir();
    const seeded = await openTestGraph(join(dataDir, 'graph'), systemClock);
    await seedShop(seeded, Date.now());
    await seeded.close();
    const config = writeConfig(dataDir);

    let stderr = '';
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: ['--import', 'tsx', fixture, '--config', config, '--policies', policiesDir],
      cwd: root,
      env: {},
      stderr: 'pipe',
    });
    transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const client = new Client({ name: 'test', version: '1.0.0' });
    try {
      await client.connect(transport);
      await exerciseEveryTool(client);
      // Without facts about recent actions, the shipped rate limits count as reached: shadow.
      const proposal = await call<ProposalOut>(client, 'propose_action', {
        incidentId: ids.incident,
        action: { kind: 'k8s.rollback' },
        target: { kind: 'Deployment', name: 'checkout', environment: 'prod' },
      });
      expect(proposal.json.decision).toMatchObject({
        mode: 'shadow',
        capped: { from: 'approval', by: ['rateLimit'] },
      });
      const policy = await client.readResource({ uri: 'nightshift://policies/default.yaml' });
      expect((policy.contents[0] as { text: string }).text).toContain('kind: Policy');
    } catch (error) {
      throw new Error(`${String(error)}\nserver stderr:\n${stderr}`);
    } finally {
      await client.close();
    }
    // The client closed stdin and the command returned 0 on its own, without a signal.
    expect(stderr).toContain('fixture: exit 0');
    expect(stderr).not.toContain('SIGTERM');
    // A clean stop closed the embedded store, so its lock is free again.
    const reopened = await openTestGraph(join(dataDir, 'graph'), systemClock);
    expect((await reopened.stats()).entities).toBeGreaterThan(0);
    await reopened.close();
  });

  it('exits 2 with one line per problem for a bad configuration or invalid policies', async () => {
    const dataDir = tempDir();
    const badConfig = join(dataDir, 'bad.yaml');
    writeFileSync(badConfig, 'graph:\n  backend: cassandra\n');
    const first = captureIo();
    expect(await mcpCommand({ stdin: new PassThrough() })(['--config', badConfig], first.io)).toBe(2);
    expect(first.err()).toMatch(/^config: graph\.backend: /m);
    expect(first.out()).toBe('');

    const emptyPolicies = tempDir();
    const second = captureIo();
    const code = await mcpCommand({ stdin: new PassThrough() })(
      ['--config', writeConfig(dataDir), '--policies', emptyPolicies],
      second.io,
    );
    expect(code).toBe(2);
    expect(second.err()).toMatch(/^policy: .*no policy files/m);
    expect(second.out()).toBe('');
  });

  it('stops when stdin ends, closing the graph', async () => {
    const dataDir = tempDir();
    const stdin = new PassThrough();
    const captured = captureIo();
    const running = mcpCommand({ stdin })(
      ['--config', writeConfig(dataDir), '--policies', policiesDir],
      captured.io,
    );
    stdin.write(
      `${JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } },
      })}\n`,
    );
    await new Promise<void>((resolve) => captured.io.stdout.once('data', () => resolve()));
    stdin.end();
    expect(await running).toBe(0);
    expect(JSON.parse(captured.out().split('\n')[0] ?? '')).toMatchObject({
      id: 1,
      result: { serverInfo: { name: 'nightshift' } },
    });
    const reopened = await openTestGraph(join(dataDir, 'graph'), systemClock);
    await reopened.close();
  });
});
