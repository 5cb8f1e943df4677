import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { ids } from './seed.js';

/** The repository root, and its shipped policy directory. */
export const root = fileURLToPath(new URL('../..', import.meta.url));
export const policiesDir = fileURLToPath(new URL('../../policies', import.meta.url));

/** An entity as the graph tools show it. */
export interface EntityOut {
  id: string;
  kind: string;
  distance?: number;
  path?: string[];
}
export interface TreeNodeOut {
  id: string;
  status: string;
  confidence: number;
  children: TreeNodeOut[];
  evidence: Array<{ summary: string; supports?: boolean; source?: string }>;
}
export interface IncidentsOut {
  incidents: Array<{ id: string; state: string; severity: string }>;
}
export interface IncidentOut {
  id: string;
  title: string;
  state: string;
  timeline: Array<{ summary: string; by?: string }>;
  hypotheses: TreeNodeOut[];
}
export interface NeighborsOut {
  entity: EntityOut;
  neighbors: EntityOut[];
}
export interface ChangesOut {
  changes: Array<{ kind: string; entityId: string }>;
}
export interface PathOut {
  path: string[] | null;
  explanation?: string;
}
export interface ProposalOut {
  proposal: { id: string; incidentId?: string };
  decision: { mode: string; rule?: string; capped?: { from: string; by: string[] } };
  executed: boolean;
  approvalUrl: string | null;
}

/** Calls a tool and returns the result with its first text block parsed as JSON (when it is JSON). */
export async function call<T = unknown>(
  client: Client,
  name: string,
  args: Record<string, unknown>,
): Promise<{ result: CallToolResult; text: string; json: T }> {
  const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
  const first = result.content[0];
  const text = first?.type === 'text' ? first.text : '';
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { result, text, json: json as T };
}

/**
 * Calls every tool of the nightshift server once against the seeded shop and checks each answer
 * is the seeded truth. Shared by the in-memory, stdio and HTTP tests, so each transport proves the
 * same behaviour.
 */
export async function exerciseEveryTool(client: Client): Promise<void> {
  const tools = await client.listTools();
  expect(tools.tools.map((tool) => tool.name).sort()).toEqual(
    [
      'blast_radius',
      'explain_path',
      'get_incident',
      'graph_neighbors',
      'list_incidents',
      'propose_action',
      'recent_changes',
    ].sort(),
  );
  expect(tools.tools.every((tool) => tool.annotations?.readOnlyHint === true)).toBe(true);

  const listed = await call<IncidentsOut>(client, 'list_incidents', {});
  expect(listed.result.isError).toBeFalsy();
  expect(listed.json.incidents.map((incident) => incident.id)).toEqual([ids.incident, ids.oldIncident]);
  const resolved = await call<IncidentsOut>(client, 'list_incidents', { state: 'resolved', limit: 5 });
  expect(resolved.json.incidents).toHaveLength(1);
  expect(resolved.json.incidents[0]).toMatchObject({ id: ids.oldIncident, severity: 'warning' });

  const incident = await call<IncidentOut>(client, 'get_incident', { id: ids.incident });
  expect(incident.result.isError).toBeFalsy();
  expect(incident.json).toMatchObject({
    id: ids.incident,
    title: 'Checkout error rate above SLO',
    state: 'investigating',
    severity: 'critical',
  });
  expect(incident.json.timeline.map((entry) => entry.summary)).toEqual([
    'CheckoutErrorRate firing',
    'investigation started',
  ]);
  expect(incident.json.timeline[1]?.by).toBe('stage:investigate');
  const [top, refuted] = incident.json.hypotheses;
  if (!top || !refuted) throw new Error('expected two root hypotheses');
  expect(incident.json.hypotheses).toHaveLength(2);
  expect(top).toMatchObject({ id: ids.hypothesisDeploy, confidence: 0.8, status: 'supported' });
  expect(top.children.map((child) => child.id)).toEqual([ids.hypothesisConfig]);
  expect(top.evidence.map((item) => item.summary)).toEqual([
    'error rate rose two minutes after deploy 42',
    '5xx rate 0.2% → 7% at 11:32',
  ]);
  expect(top.evidence[1]).toMatchObject({ supports: true, source: 'prometheus.query' });
  expect(refuted).toMatchObject({ id: ids.hypothesisDatabase, status: 'refuted' });

  const neighbors = await call<NeighborsOut>(client, 'graph_neighbors', { id: ids.checkout });
  expect(neighbors.json.entity.id).toBe(ids.checkout);
  expect(neighbors.json.neighbors.map((item) => item.id).sort()).toEqual(
    [ids.payments, ids.flag, ids.workload, ids.incident].sort(),
  );

  const blast = await call<{ reached: EntityOut[] }>(client, 'blast_radius', {
    id: ids.orders,
    direction: 'downstream',
  });
  expect(blast.json.reached.map((item) => [item.id, item.distance])).toEqual([
    [ids.payments, 1],
    [ids.checkout, 2],
  ]);

  const changes = await call<ChangesOut>(client, 'recent_changes', { ids: [ids.checkout], window: '2h' });
  expect(changes.json.changes.map((change) => [change.kind, change.entityId])).toEqual(
    expect.arrayContaining([
      ['flag-flip', ids.flag],
      ['deploy', ids.workload],
    ]),
  );
  expect(changes.json.changes).toHaveLength(2);

  const path = await call<PathOut>(client, 'explain_path', { from: ids.deploy, to: ids.orders });
  expect(path.json.path).toEqual([
    `${ids.deploy} -[DEPLOYED]-> ${ids.workload}`,
    `${ids.workload} -[PART_OF]-> ${ids.checkout}`,
    `${ids.checkout} -[CALLS]-> ${ids.payments}`,
    `${ids.payments} -[DEPENDS_ON]-> ${ids.orders}`,
  ]);

  const denied = await call<ProposalOut>(client, 'propose_action', {
    incidentId: ids.incident,
    action: { kind: 'k8s.deleteNamespace', params: {} },
    target: { kind: 'Namespace', name: 'shop', environment: 'prod' },
  });
  expect(denied.result.isError).toBeFalsy();
  expect(denied.json).toMatchObject({
    executed: false,
    approvalUrl: null,
    decision: { mode: 'deny', rule: 'never-delete-data' },
  });
}
