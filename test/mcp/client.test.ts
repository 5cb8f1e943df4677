import { afterEach, describe, expect, it } from 'vitest';
import { HealthRegistry } from '../../src/app/health.js';
import { createMetrics } from '../../src/app/metrics.js';
import { connectMcpServers, type McpConnections } from '../../src/mcp/client/connect.js';
import { parseMcpClientConfigs } from '../../src/mcp/client/config.js';
import { graphIncidentReader } from '../../src/mcp/graph-incident-reader.js';
import { mcpHttpRoutes } from '../../src/mcp/http.js';
import { createMcpServer } from '../../src/mcp/server.js';
import { createHttpApp, listen } from '../../src/server/http.js';
import { systemClock } from '../../src/shared/clock.js';
import { ConfigError, SystemError } from '../../src/shared/errors.js';
import { silentLogger } from '../../src/shared/logger.js';
import { Secret } from '../../src/shared/secret.js';
import { freePort } from '../kit/ports.js';
import { tempDir } from '../kit/tmp.js';
import { root } from './kit.js';
import { ids, openTestGraph, seedShop } from './seed.js';

const inventory = {
  name: 'inventory',
  command: process.execPath,
  args: ['--import', 'tsx', 'test/fixtures/mcp/external-server.ts'],
  cwd: root,
  env: { INVENTORY_GREETING: 'hello' },
  allow: ['lookup_service', 'big', 'broken', 'wipe_cache', 'not_offered'],
  readOnly: true,
  maxOutputBytes: 1024,
};

let connections: McpConnections | undefined;

afterEach(async () => {
  await connections?.close();
  connections = undefined;
});

describe('connectMcpServers', () => {
  it('exposes only allowed read-only tools of a stdio server and calls them within the output budget', async () => {
    connections = await connectMcpServers([inventory], silentLogger());
    const names = connections.tools.map((tool) => tool.name).sort();
    // restart_service is not allowed; wipe_cache is allowed but declares itself destructive;
    // not_offered does not exist on the server.
    expect(names).toEqual(['mcp.inventory.big', 'mcp.inventory.broken', 'mcp.inventory.lookup_service']);
    expect(connections.servers).toEqual([
      { name: 'inventory', status: 'connected', tools: ['lookup_service', 'big', 'broken'] },
    ]);
    const lookup = connections.tools.find((tool) => tool.tool === 'lookup_service');
    expect(lookup).toMatchObject({
      readOnly: true,
      safeName: 'mcp_inventory_lookup_service',
      description: 'Owner and tier of a service',
      inputSchema: { type: 'object', properties: { name: { type: 'string' } } },
    });

    const answer = await lookup!.call({ name: 'checkout' }, new AbortController().signal);
    expect(answer.isError).toBe(false);
    expect(answer.truncated).toBe(false);
    // The process got the configured env, and none of ours.
    expect(JSON.parse(answer.text)).toEqual({
      name: 'checkout',
      owner: 'team-shop',
      tier: 'critical',
      sawSecret: false,
      greeting: 'hello',
    });

    const big = await connections.tools.find((tool) => tool.tool === 'big')!.call({});
    expect(big.truncated).toBe(true);
    expect(Buffer.byteLength(big.text)).toBeLessThanOrEqual(1024);
    expect(big.text.endsWith('…[truncated]')).toBe(true);
    expect(big.text).not.toContain('\uFFFD');

    const broken = await connections.tools.find((tool) => tool.tool === 'broken')!.call({});
    expect(broken).toEqual({ text: 'inventory backend unavailable', truncated: false, isError: true });

    const refused = await lookup!.call({ name: 42 });
    expect(refused.isError).toBe(true);
    expect(refused.text).toMatch(/name/);
  });

  it('gives up on a slow tool when the caller aborts or the call times out', async () => {
    connections = await connectMcpServers(
      [
        { ...inventory, allow: ['slow'] },
        { ...inventory, name: 'impatient', allow: ['slow'], timeoutMs: 300 },
      ],
      silentLogger(),
    );
    const [slow, impatient] = connections.tools;
    expect([slow?.name, impatient?.name]).toEqual(['mcp.inventory.slow', 'mcp.impatient.slow']);
    const controller = new AbortController();
    const pending = slow!.call({}, controller.signal);
    controller.abort(new Error('investigation budget spent'));
    await expect(pending).rejects.toThrow('investigation budget spent');
    const timedOut: unknown = await impatient!.call({}).catch((error: unknown) => error);
    expect(timedOut).toBeInstanceOf(SystemError);
    expect((timedOut as SystemError).retryable).toBe(true);
    expect((timedOut as SystemError).message).toMatch(/mcp server impatient: slow: .*timed out/i);
  });

  it('rejects a server not marked readOnly: true before starting anything', async () => {
    const attempt = connectMcpServers(
      [
        { ...inventory, readOnly: undefined },
        { ...inventory, name: 'second', readOnly: false, command: 'does-not-exist-anywhere' },
      ],
      silentLogger(),
    );
    const error: unknown = await attempt.catch((caught: unknown) => caught);
    if (!(error instanceof ConfigError)) throw new Error(`expected a ConfigError, got ${String(error)}`);
    expect(error.issues.map((issue) => issue.path)).toEqual([
      'mcp.clients[0].readOnly',
      'mcp.clients[1].readOnly',
    ]);
    expect(error.issues[0]?.message).toMatch(/^must be true/);
  });

  it('validates the rest of the configuration with one line per problem', () => {
    try {
      parseMcpClientConfigs([
        { name: 'Bad Name', command: 'x', allow: ['a'], readOnly: true },
        { name: 'both', command: 'x', url: 'http://127.0.0.1:1/mcp', allow: ['a'], readOnly: true },
        { name: 'neither', allow: ['a'], readOnly: true },
        { name: 'stdio-token', command: 'x', token: 'abc', allow: ['a'], readOnly: true },
        { name: 'empty', command: 'x', allow: [], readOnly: true },
        { name: 'dup', command: 'x', allow: ['a'], readOnly: true },
        { name: 'dup', command: 'x', allow: ['a'], readOnly: true },
      ]);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).issues.map((issue) => issue.path)).toEqual([
        'mcp.clients[0].name',
        'mcp.clients[1]',
        'mcp.clients[2]',
        'mcp.clients[3].token',
        'mcp.clients[4].allow',
        'mcp.clients[6].name',
      ]);
    }
  });

  it('calls tools of a Streamable HTTP server with a bearer token, and reports one that is down', async () => {
    const graph = await openTestGraph(tempDir(), systemClock);
    await seedShop(graph, Date.now());
    const token = 'client-test-token-0123456789';
    const app = createHttpApp({
      bodyLimitBytes: 1_048_576,
      health: new HealthRegistry(),
      metrics: createMetrics(),
      logger: silentLogger(),
      routes: [
        mcpHttpRoutes({
          token: new Secret(token),
          logger: silentLogger(),
          createServer: () =>
            createMcpServer({
              graph,
              incidents: graphIncidentReader(graph),
              policies: () => undefined,
              clock: systemClock,
              logger: silentLogger(),
            }),
        }),
      ],
    });
    const server = await listen(app, '127.0.0.1', 0);
    const closedPort = await freePort();
    try {
      connections = await connectMcpServers(
        [
          {
            name: 'peer',
            url: `${server.url}/mcp`,
            token,
            allow: ['get_incident', 'propose_action'],
            readOnly: true,
          },
          {
            name: 'down',
            url: `http://127.0.0.1:${closedPort}/mcp`,
            allow: ['x'],
            readOnly: true,
            timeoutMs: 2000,
          },
        ],
        silentLogger(),
      );
      expect(connections.tools.map((tool) => tool.name)).toEqual([
        'mcp.peer.get_incident',
        'mcp.peer.propose_action',
      ]);
      expect(connections.servers[1]).toMatchObject({ name: 'down', status: 'failed' });
      const incident = await connections.tools[0]!.call({ id: ids.incident });
      expect(incident.isError).toBe(false);
      expect(JSON.parse(incident.text)).toMatchObject({ id: ids.incident, state: 'investigating' });

      await expect(
        connectMcpServers(
          [
            {
              name: 'down',
              url: `http://127.0.0.1:${closedPort}/mcp`,
              allow: ['x'],
              readOnly: true,
              required: true,
            },
          ],
          silentLogger(),
        ),
      ).rejects.toThrow(SystemError);
      const wrongToken = await connectMcpServers(
        [
          {
            name: 'peer',
            url: `${server.url}/mcp`,
            token: 'not-the-token',
            allow: ['get_incident'],
            readOnly: true,
          },
        ],
        silentLogger(),
      );
      expect(wrongToken.servers[0]?.status).toBe('failed');
      await wrongToken.close();
    } finally {
      await connections?.close();
      connections = undefined;
      await server.close();
      await graph.close();
    }
  });
});
