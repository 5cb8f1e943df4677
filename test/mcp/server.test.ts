import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { GraphStore } from '../../src/graph/store.js';
import { graphIncidentReader } from '../../src/mcp/graph-incident-reader.js';
import { createMcpServer } from '../../src/mcp/server.js';
import type { McpServerDependencies } from '../../src/mcp/types.js';
import { loadPolicies, type PolicySet } from '../../src/policy/index.js';
import { ManualClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { tempDir } from '../kit/tmp.js';
import {
  call,
  exerciseEveryTool,
  policiesDir,
  type IncidentOut,
  type IncidentsOut,
  type PathOut,
  type ProposalOut,
} from './kit.js';
import { ids, openTestGraph, seedShop } from './seed.js';

// Tuesday 2026-01-13 10:00 UTC: outside any freeze, a working hour.
const NOW = Date.UTC(2026, 0, 13, 10);

let graph: GraphStore;
let policies: PolicySet;
let client: Client;

async function connect(overrides: Partial<McpServerDependencies> = {}): Promise<Client> {
  const clock = new ManualClock(NOW);
  const server = createMcpServer({
    graph,
    incidents: graphIncidentReader(graph),
    policies: () => policies,
    policiesDir,
    publicUrl: 'https://nightshift.example.com/',
    enrichFacts: () => Promise.resolve({ recent: { perTarget: 0, perCluster: 0, failures: 0 } }),
    clock,
    logger: silentLogger(),
    ...overrides,
  });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const connected = new Client({ name: 'test', version: '1.0.0' });
  await connected.connect(clientSide);
  return connected;
}

beforeEach(async () => {
  graph = await openTestGraph(tempDir(), new ManualClock(NOW));
  await seedShop(graph, NOW);
  const loaded = await loadPolicies(policiesDir);
  if (!('ok' in loaded)) throw new Error('the shipped policies must load');
  policies = loaded.ok;
  client = await connect();
});

afterEach(async () => {
  await client.close();
  await graph.close();
});

describe('the nightshift MCP server', () => {
  it('answers every tool from the graph and the policy', async () => {
    await exerciseEveryTool(client);
  });

  it('returns a policy decision and an approval link for a proposal, and executes nothing', async () => {
    const before = await graph.stats();
    const { json, result } = await call<ProposalOut>(client, 'propose_action', {
      incidentId: ids.incident,
      action: { kind: 'k8s.rollback', params: { revision: 41 } },
      target: {
        kind: 'Deployment',
        name: 'checkout',
        namespace: 'shop',
        cluster: 'prod',
        environment: 'prod',
      },
      hypothesis: { category: 'deploy-regression', confidence: 0.8 },
    });
    expect(result.isError).toBeFalsy();
    expect(json.decision).toMatchObject({
      mode: 'approval',
      policy: 'default',
      rule: 'prod-rollback-needs-approval',
      approvers: ['S0NIGHTSHIFT'],
    });
    expect(json.executed).toBe(false);
    expect(json.proposal).toMatchObject({
      incidentId: ids.incident,
      action: { kind: 'k8s.rollback', params: { revision: 41 } },
      target: { kind: 'Deployment', name: 'checkout', namespace: 'shop', environment: 'prod' },
    });
    expect(json.approvalUrl).toBe(
      `https://nightshift.example.com/console/proposals/${json.proposal.id}?incident=${encodeURIComponent(ids.incident)}`,
    );
    // The same proposal gets the same id; nothing was written to the graph.
    const again = await call<ProposalOut>(client, 'propose_action', {
      incidentId: ids.incident,
      action: { kind: 'k8s.rollback', params: { revision: 41 } },
      target: {
        kind: 'Deployment',
        name: 'checkout',
        namespace: 'shop',
        cluster: 'prod',
        environment: 'prod',
      },
    });
    expect(again.json.proposal.id).toBe(json.proposal.id);
    expect(await graph.stats()).toEqual(before);
  });

  it('follows the kill switch and says so when no facts about recent actions are known', async () => {
    await client.close();
    client = await connect({ killSwitch: () => true });
    const killed = await call<ProposalOut>(client, 'propose_action', {
      action: { kind: 'k8s.rollback' },
      target: { kind: 'Deployment', name: 'checkout', environment: 'staging' },
    });
    expect(killed.json.decision).toMatchObject({
      mode: 'shadow',
      capped: { from: 'autonomous', by: ['killSwitch'] },
    });
    expect(killed.json.approvalUrl).toBeNull();

    await client.close();
    client = await connect({ enrichFacts: undefined });
    const unknownRecent = await call<ProposalOut>(client, 'propose_action', {
      action: { kind: 'k8s.rollback' },
      target: { kind: 'Deployment', name: 'checkout', environment: 'staging' },
    });
    expect(unknownRecent.json.decision).toMatchObject({ mode: 'shadow', capped: { by: ['rateLimit'] } });
  });

  it('answers bad arguments and unknown ids with tool errors, never a crash', async () => {
    const cases: Array<[string, Record<string, unknown>, RegExp]> = [
      ['get_incident', {}, /id/],
      ['get_incident', { id: 'incident:nope' }, /no incident "incident:nope"/],
      ['list_incidents', { state: 'sleeping' }, /state/],
      ['list_incidents', { limit: 0 }, /limit/],
      ['graph_neighbors', { id: ids.checkout, depth: 9 }, /depth/],
      ['graph_neighbors', { id: 'service:nope' }, /no entity "service:nope"/],
      ['blast_radius', { id: ids.checkout, direction: 'sideways' }, /direction/],
      ['recent_changes', { ids: [] }, /ids/],
      ['recent_changes', { ids: [ids.checkout], window: 'yesterday' }, /duration/],
      ['explain_path', { from: ids.checkout, to: 'service:nope' }, /no entity "service:nope"/],
      ['propose_action', { action: { kind: 'k8s.scale' } }, /target/],
      [
        'propose_action',
        {
          incidentId: 'incident:nope',
          action: { kind: 'k8s.scale' },
          target: { kind: 'Deployment', name: 'checkout', environment: 'prod' },
        },
        /no incident/,
      ],
    ];
    for (const [tool, args, message] of cases) {
      const { result, text } = await call(client, tool, args);
      expect(result.isError, `${tool} ${JSON.stringify(args)}`).toBe(true);
      expect(text, `${tool} ${JSON.stringify(args)}`).toMatch(message);
    }
    // The server still answers after all of that.
    expect((await call<IncidentsOut>(client, 'list_incidents', {})).json.incidents).toHaveLength(2);
    await expect(client.callTool({ name: 'no_such_tool', arguments: {} })).resolves.toMatchObject({
      isError: true,
    });
  });

  it('says when there is no path, and when no policy is loaded', async () => {
    const none = await call<PathOut>(client, 'explain_path', {
      from: ids.deploy,
      to: ids.orders,
      maxDepth: 2,
    });
    expect(none.json).toMatchObject({ path: null, explanation: 'no path within 2 hops' });
    await client.close();
    client = await connect({ policies: () => undefined });
    const proposal = await call<ProposalOut>(client, 'propose_action', {
      action: { kind: 'k8s.scale' },
      target: { kind: 'Deployment', name: 'checkout', environment: 'prod' },
    });
    expect(proposal.result.isError).toBe(true);
    expect(proposal.text).toMatch(/no policy is loaded/);
  });

  it('cuts a long answer to the output budget and marks it', async () => {
    await client.close();
    client = await connect({ maxOutputBytes: 600 });
    const { text } = await call<IncidentOut>(client, 'get_incident', { id: ids.incident });
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(600);
    expect(text.endsWith('…[truncated]')).toBe(true);
  });

  it('serves incident reports and policy files as resources, and nothing outside the policy directory', async () => {
    const { resources } = await client.listResources();
    const uris = resources.map((resource) => resource.uri);
    expect(uris).toContain(`nightshift://incidents/${encodeURIComponent(ids.incident)}/report`);
    expect(uris).toContain(`nightshift://incidents/${encodeURIComponent(ids.oldIncident)}/report`);
    expect(uris).toContain('nightshift://policies/default.yaml');

    const written = await client.readResource({
      uri: `nightshift://incidents/${encodeURIComponent(ids.oldIncident)}/report`,
    });
    expect(written.contents[0]).toMatchObject({
      mimeType: 'text/markdown',
      text: '# Payments latency\n\nThe orders database ran out of connections.\n',
    });
    const rendered = await client.readResource({
      uri: `nightshift://incidents/${encodeURIComponent(ids.incident)}/report`,
    });
    const renderedText = (rendered.contents[0] as { text: string }).text;
    expect(renderedText).toContain('# Checkout error rate above SLO');
    expect(renderedText).toContain('Deploy 42 of checkout introduced the errors');

    const policy = await client.readResource({ uri: 'nightshift://policies/default.yaml' });
    expect((policy.contents[0] as { text: string }).text).toContain('name: prod-rollback-needs-approval');

    await expect(
      client.readResource({ uri: `nightshift://policies/${encodeURIComponent('../package.json')}` }),
    ).rejects.toThrow(/no policy file/);
    await expect(
      client.readResource({ uri: `nightshift://policies/${encodeURIComponent('tests/default.yaml')}` }),
    ).rejects.toThrow(/no policy file/);
    await expect(
      client.readResource({ uri: `nightshift://incidents/${encodeURIComponent('incident:nope')}/report` }),
    ).rejects.toThrow(/no incident/);
  });
});
