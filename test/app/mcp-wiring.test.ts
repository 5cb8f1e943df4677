import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inProcessDaemon } from '../kit/in-process-daemon.js';
import { connectExternalTools } from '../../src/app/agent/mcp.js';
import { loadConfig } from '../../src/config/index.js';
import { EmbeddedGraphStore } from '../../src/graph/embedded/embedded-store.js';
import { createInvestigationTools } from '../../src/investigate/index.js';
import { systemClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { testPrefix } from '../kit/prefix.js';
import { tempDir } from '../kit/tmp.js';

const root = join(import.meta.dirname, '../..');
const prefix = testPrefix(import.meta.filename);

describe('MCP in the daemon', () => {
  it('gives an investigation an allowed read-only tool of an external MCP server, and nothing else of it', async () => {
    const dir = tempDir();
    const withClient = {
      ...loadConfig({ env: { NIGHTSHIFT_DATA_DIR: dir }, cwd: dir }),
    };
    withClient.mcp = {
      ...withClient.mcp,
      clients: [
        {
          name: 'inventory',
          command: process.execPath,
          args: ['--import', 'tsx', 'test/fixtures/mcp/external-server.ts'],
          cwd: root,
          allow: ['lookup_service', 'wipe_cache'],
          readOnly: true,
        },
      ],
    };
    const external = await connectExternalTools(withClient, silentLogger());
    const graph = await EmbeddedGraphStore.open({
      dataDir: dir,
      fsync: 'never',
      logger: silentLogger(),
      clock: systemClock,
    });
    try {
      const tools = createInvestigationTools({ graph, extraTools: external.tools });
      expect(tools.names).toContain('mcp_inventory_lookup_service');
      // wipe_cache is allowed by name but its server declares it destructive: never offered.
      expect(tools.names.filter((name) => name.startsWith('mcp_'))).toEqual(['mcp_inventory_lookup_service']);
      const call = await tools.call(
        'mcp_inventory_lookup_service',
        { name: 'checkout' },
        {
          signal: new AbortController().signal,
          now: Date.now(),
        },
      );
      expect(call.result.status).toBe('ok');
      expect(JSON.stringify(call.result.data)).toContain('checkout');
    } finally {
      await graph.close();
      await external.connections.close();
    }
  }, 60_000);

  it('serves /mcp with a bearer token and refuses without it', async () => {
    const token = 'mcp-token-for-the-wiring-test';
    const app = inProcessDaemon({ prefix, env: { NIGHTSHIFT_MCP_TOKEN: token } });
    const { url } = await app.start();
    try {
      const refused = await fetch(`${url}/mcp`, {
        method: 'POST',
        body: '{}',
        headers: { 'content-type': 'application/json' },
      });
      expect(refused.status).toBe(401);
      const client = new Client({ name: 'wiring-test', version: '1.0.0' });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(`${url}/mcp`), {
          requestInit: { headers: { Authorization: `Bearer ${token}` } },
        }),
      );
      const names = (await client.listTools()).tools.map((tool) => tool.name);
      expect(names).toEqual(expect.arrayContaining(['list_incidents', 'blast_radius', 'propose_action']));
      const answer = await client.callTool({
        name: 'propose_action',
        arguments: {
          action: { kind: 'k8s.rolloutRestart', params: {} },
          target: { kind: 'Deployment', name: 'checkout', namespace: 'shop', environment: 'prod' },
        },
      });
      const [first] = answer.content as Array<{ type: string; text: string }>;
      const result = JSON.parse(first?.text ?? '{}') as { executed: boolean; decision: { mode: string } };
      expect(result.executed).toBe(false);
      expect(['shadow', 'approval', 'autonomous', 'deny']).toContain(result.decision.mode);
      await client.close();
    } finally {
      await app.stop();
    }
  }, 60_000);
});
