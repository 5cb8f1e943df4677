import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HealthRegistry } from '../../src/app/health.js';
import { createMetrics } from '../../src/app/metrics.js';
import type { GraphStore } from '../../src/graph/store.js';
import { graphIncidentReader } from '../../src/mcp/graph-incident-reader.js';
import { mcpHttpRoutes } from '../../src/mcp/http.js';
import { createMcpServer } from '../../src/mcp/server.js';
import { loadPolicies } from '../../src/policy/index.js';
import { createHttpApp, listen, type RunningServer } from '../../src/server/http.js';
import { ConfigError } from '../../src/shared/errors.js';
import { systemClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { Secret } from '../../src/shared/secret.js';
import { tempDir } from '../kit/tmp.js';
import { exerciseEveryTool, policiesDir } from './kit.js';
import { openTestGraph, seedShop } from './seed.js';

const TOKEN = 'test-token-0123456789abcdef';

let graph: GraphStore;
let server: RunningServer;

beforeEach(async () => {
  graph = await openTestGraph(tempDir(), systemClock);
  await seedShop(graph, Date.now());
  const loaded = await loadPolicies(policiesDir);
  if (!('ok' in loaded)) throw new Error('the shipped policies must load');
  const app = createHttpApp({
    bodyLimitBytes: 1_048_576,
    health: new HealthRegistry(),
    metrics: createMetrics(),
    logger: silentLogger(),
    routes: [
      mcpHttpRoutes({
        token: new Secret(TOKEN),
        allowedOrigins: ['https://console.example.com'],
        logger: silentLogger(),
        createServer: () =>
          createMcpServer({
            graph,
            incidents: graphIncidentReader(graph),
            policies: () => loaded.ok,
            policiesDir,
            clock: systemClock,
            logger: silentLogger(),
          }),
      }),
    ],
  });
  server = await listen(app, '127.0.0.1', 0);
});

afterEach(async () => {
  await server.close();
  await graph.close();
});

async function connect(token: string | undefined): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), {
    requestInit: { headers: token ? { Authorization: `Bearer ${token}` } : {} },
  });
  const client = new Client({ name: 'test', version: '1.0.0' });
  await client.connect(transport);
  return client;
}

describe('MCP over Streamable HTTP at /mcp', () => {
  it('serves every tool to a real client holding the bearer token', async () => {
    const client = await connect(TOKEN);
    try {
      await exerciseEveryTool(client);
      const { resources } = await client.listResources();
      expect(resources.map((resource) => resource.uri)).toContain('nightshift://policies/default.yaml');
    } finally {
      await client.close();
    }
  });

  it('answers 401 JSON without a token or with a wrong one, whatever the method', async () => {
    const initialize = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } },
    });
    const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    for (const authorization of [
      undefined,
      'Bearer wrong-token',
      `Basic ${TOKEN}`,
      `Bearer ${TOKEN}x`,
      'Bearer',
    ]) {
      for (const method of ['POST', 'GET', 'DELETE']) {
        const response = await fetch(`${server.url}/mcp`, {
          method,
          headers: { ...headers, ...(authorization ? { authorization } : {}) },
          ...(method === 'POST' ? { body: initialize } : {}),
        });
        expect(response.status, `${method} with ${authorization ?? 'no token'}`).toBe(401);
        expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
        expect(await response.json()).toEqual({
          error: { code: 'unauthorized', message: 'a valid bearer token is required for /mcp' },
        });
      }
    }
    await expect(connect('wrong-token')).rejects.toThrow();
  });

  it('is stateless: GET and DELETE answer 405, a foreign browser origin 403', async () => {
    const authorization = `Bearer ${TOKEN}`;
    const get = await fetch(`${server.url}/mcp`, { headers: { authorization, accept: 'text/event-stream' } });
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    const remove = await fetch(`${server.url}/mcp`, { method: 'DELETE', headers: { authorization } });
    expect(remove.status).toBe(405);
    const foreign = await fetch(`${server.url}/mcp`, {
      method: 'POST',
      headers: { authorization, origin: 'https://evil.example.com', 'content-type': 'application/json' },
      body: '{}',
    });
    expect(foreign.status).toBe(403);
    expect(((await foreign.json()) as { error: { code: string } }).error.code).toBe('forbidden_origin');
  });

  it('answers malformed JSON-RPC with a JSON-RPC error, not a crash', async () => {
    const response = await fetch(`${server.url}/mcp`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${TOKEN}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: '{not json',
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: number } }).error.code).toBe(-32700);
  });

  it('refuses to mount with a short token', () => {
    expect(() =>
      mcpHttpRoutes({
        token: new Secret('short'),
        logger: silentLogger(),
        createServer: () => ({}) as never,
      }),
    ).toThrow(ConfigError);
  });
});
