import Anthropic from '@anthropic-ai/sdk';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectExternalTools } from '../../src/app/agent/mcp.js';
import { loadConfig } from '../../src/config/index.js';
import { k8sId, serviceId } from '../../src/graph/ids.js';
import {
  createClaudePlanner,
  createInvestigationTools,
  hypothesisIdFor,
  investigate,
  readHypothesisTree,
} from '../../src/investigate/index.js';
import type { McpConnections } from '../../src/mcp/client/connect.js';
import { silentLogger } from '../../src/shared/logger.js';
import { tempDir } from '../kit/tmp.js';
import { startSimEstate, START, type SimEstate } from './sim-kit.js';

const root = join(import.meta.dirname, '../..');
const FAST = 'claude-fast-test';
const DEEP = 'claude-deep-test';
const MCP_TOOL = 'mcp_inventory_lookup_service';
const INCIDENT = 'incident:mcp-lookup';
const CHECKOUT = k8sId('prod-eu1', 'shop', 'Deployment', 'checkout');
const H_CHECKOUT = hypothesisIdFor(INCIDENT, 'deploy_regression', CHECKOUT);

let estate: SimEstate | undefined;
beforeAll(async () => {
  estate = await startSimEstate('bad-deploy-checkout');
  await estate.sim.world.advanceTo(START + 200_000);
  await estate.sync();
});
afterAll(async () => {
  await estate?.stop();
});

/** The scripted model: propose one hypothesis, test it with the external tool, assess the answer. */
function script() {
  return {
    steps: [
      {
        name: 'propose',
        expect: { model: FAST, tools: [MCP_TOOL, 'record_hypotheses'] },
        reply: {
          content: [
            {
              type: 'tool_use' as const,
              id: 'toolu_propose',
              name: 'record_hypotheses',
              input: {
                hypotheses: [
                  {
                    statement: 'The checkout 3.1.0 deploy broke payments tokens',
                    category: 'deploy_regression',
                    suspect: CHECKOUT,
                    prior: 0.5,
                  },
                ],
              },
            },
          ],
        },
      },
      {
        name: 'ask the service inventory',
        expect: { model: DEEP, tools: [MCP_TOOL], lastUserTextIncludes: H_CHECKOUT },
        reply: {
          content: [
            {
              type: 'tool_use' as const,
              id: 'toolu_mcp',
              name: MCP_TOOL,
              input: { hypothesis_id: H_CHECKOUT, name: 'checkout' },
            },
          ],
        },
      },
      {
        name: 'assess the inventory answer',
        // The external server's answer reaches the model, quoted as data.
        expect: { model: FAST, lastUserTextIncludes: 'team-shop' },
        reply: {
          content: [
            {
              type: 'tool_use' as const,
              id: 'toolu_assess',
              name: 'record_assessment',
              input: {
                assessments: [
                  {
                    hypothesis_id: H_CHECKOUT,
                    confidence: 0.9,
                    verdicts: [
                      {
                        call_id: 'toolu_mcp',
                        verdict: 'supports',
                        weight: 0.8,
                        rationale: 'the inventory lists checkout as critical and owned by team-shop',
                      },
                    ],
                  },
                ],
              },
            },
          ],
        },
      },
    ],
  };
}

describe('an investigation with a tool of an external MCP server', () => {
  it('lets the Claude planner call the allowed read-only tool, and never offers the destructive one', async () => {
    if (!estate) throw new Error('the sim estate did not start');
    const anthropic = estate.sim.vendors?.anthropic;
    if (!anthropic) throw new Error('the sim started without its Messages API');
    const dir = tempDir();
    const callLog = join(dir, 'inventory-calls.jsonl');
    const config = loadConfig({ env: { NIGHTSHIFT_DATA_DIR: dir }, cwd: dir });
    config.mcp = {
      ...config.mcp,
      clients: [
        {
          name: 'inventory',
          command: process.execPath,
          args: ['--import', 'tsx', 'test/fixtures/mcp/external-server.ts'],
          cwd: root,
          env: { INVENTORY_CALL_LOG: callLog },
          allow: ['lookup_service', 'wipe_cache'],
          readOnly: true,
        },
      ],
    };
    let connections: McpConnections | undefined;
    try {
      const external = await connectExternalTools(config, silentLogger());
      connections = external.connections;
      expect(connections.servers).toEqual([
        { name: 'inventory', status: 'connected', tools: ['lookup_service'] },
      ]);
      const tools = createInvestigationTools({ graph: estate.graph, extraTools: external.tools });
      anthropic.load(script());
      const before = { requests: anthropic.requests.length, mismatches: anthropic.mismatches.length };

      const result = await investigate(
        {
          incidentId: INCIDENT,
          severity: 'critical',
          symptomEntityIds: [serviceId('checkout'), serviceId('frontend')],
          signals: [],
          openedAt: START + 150_000,
        },
        {
          graph: estate.graph,
          tools,
          planner: createClaudePlanner({
            client: new Anthropic({
              apiKey: 'sk-ant-test-key',
              baseURL: estate.sim.vendors?.urls.anthropic ?? '',
              maxRetries: 0,
              timeout: 5_000,
            }),
            fastModel: FAST,
            deepModel: DEEP,
            maxRetries: 0,
            rules: { now: () => estate?.clock.now() ?? START },
          }),
          clock: estate.clock,
          logger: silentLogger(),
        },
        new AbortController().signal,
      );

      // The model drove the whole investigation: every scripted step answered, none refused.
      expect(anthropic.mismatches.slice(before.mismatches)).toEqual([]);
      expect(anthropic.remaining()).toBe(0);
      expect(result.planner).toBe('claude');
      expect(result.fallbackReason).toBeUndefined();
      expect(result.toolCalls).toBe(1);

      // The external server received exactly the call the model made, without the hypothesis id.
      expect(existsSync(callLog)).toBe(true);
      const received = readFileSync(callLog, 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as unknown);
      expect(received).toEqual([{ tool: 'lookup_service', arguments: { name: 'checkout' } }]);

      // Its answer is evidence on the hypothesis, in the result and in the tree written to the graph.
      const evidence = {
        callId: 'toolu_mcp',
        tool: MCP_TOOL,
        input: { name: 'checkout' },
        verdict: 'supports',
        outputDigest: expect.stringContaining('team-shop') as unknown,
      };
      const node = result.tree.find((item) => item.id === H_CHECKOUT);
      expect(node?.status).toBe('supported');
      expect(node?.evidence).toEqual([expect.objectContaining(evidence)]);
      const stored = await readHypothesisTree(estate.graph, INCIDENT);
      expect(stored.find((item) => item.id === H_CHECKOUT)?.evidence).toEqual([
        expect.objectContaining(evidence),
      ]);
      expect(result.rootCause).toMatchObject({ hypothesisId: H_CHECKOUT, suspect: CHECKOUT });

      // The report cites the call in the evidence chain and lists it among the tool calls.
      const cited = `- [toolu_mcp] \`${MCP_TOOL}\` \`{"name":"checkout"}\``;
      expect(result.report.markdown).toContain(`${cited}: **supports**`);
      expect(result.report.markdown).toContain(`${cited} → ok`);
      expect(result.report.markdown).toContain('"owner":"team-shop"');
      expect(result.report.json.toolCalls).toEqual([
        expect.objectContaining({ callId: 'toolu_mcp', tool: MCP_TOOL, status: 'ok' }),
      ]);

      // Every request offered the allowed tool and never the destructive one, by name or description.
      const sent = anthropic.requests.slice(before.requests);
      expect(sent.map((request) => request.model)).toEqual([FAST, DEEP, FAST]);
      for (const request of sent) {
        const offered = (request.tools as Array<{ name: string; description: string }>).map(
          (tool) => tool.name,
        );
        expect(offered).toContain(MCP_TOOL);
        expect(offered.filter((name) => name.startsWith('mcp_'))).toEqual([MCP_TOOL]);
        expect(request.rawBody).not.toContain('wipe_cache');
        expect(request.rawBody).not.toContain('Empties the cache');
      }
      const offered = (
        sent[1]?.tools as Array<{
          name: string;
          description: string;
          input_schema: { properties?: Record<string, unknown> };
        }>
      ).find((tool) => tool.name === MCP_TOOL);
      // The model sees the server's own input fields beside the hypothesis it tests.
      expect(offered?.input_schema.properties?.name).toMatchObject({ type: 'string' });
      expect(offered?.input_schema.properties).toHaveProperty('hypothesis_id');
      expect(offered?.description).toContain('Owner and tier of a service');
      expect(offered?.description).toContain('external MCP server "inventory"');
    } finally {
      await connections?.close();
    }
  }, 60_000);
});
