import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { incidentStates } from '../loop/incident-lifecycle.js';
import type { Logger } from '../shared/logger.js';
import { errorResult, guarded, jsonResult } from './tool-result.js';
import type { Evidence, Hypothesis, IncidentDetail, IncidentReader } from './types.js';

const READ_ONLY = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };

/** A hypothesis with the hypotheses that refine it, as `get_incident` shows the tree. */
export interface HypothesisTreeNode {
  id: string;
  statement: string;
  status: string;
  confidence: number;
  category?: string;
  evidence: Evidence[];
  children: HypothesisTreeNode[];
}

/**
 * Nests hypotheses under their `parentId`; a hypothesis whose parent is missing (or that sits
 * on a cycle) becomes a root. Siblings are ordered by confidence, highest first, then id.
 */
export function hypothesisTree(hypotheses: readonly Hypothesis[]): HypothesisTreeNode[] {
  const byId = new Map(hypotheses.map((hypothesis) => [hypothesis.id, hypothesis]));
  const nodes = new Map<string, HypothesisTreeNode>();
  for (const hypothesis of hypotheses) {
    nodes.set(hypothesis.id, {
      id: hypothesis.id,
      statement: hypothesis.statement,
      status: hypothesis.status,
      confidence: hypothesis.confidence,
      ...(hypothesis.category ? { category: hypothesis.category } : {}),
      evidence: hypothesis.evidence,
      children: [],
    });
  }
  const reachesItself = (start: Hypothesis): boolean => {
    const seen = new Set<string>([start.id]);
    let parent = start.parentId;
    while (parent !== undefined) {
      if (seen.has(parent)) return parent === start.id;
      seen.add(parent);
      parent = byId.get(parent)?.parentId;
    }
    return false;
  };
  const roots: HypothesisTreeNode[] = [];
  for (const hypothesis of hypotheses) {
    const node = nodes.get(hypothesis.id) as HypothesisTreeNode;
    const parent = hypothesis.parentId === undefined ? undefined : nodes.get(hypothesis.parentId);
    if (parent && !reachesItself(hypothesis)) parent.children.push(node);
    else roots.push(node);
  }
  const order = (list: HypothesisTreeNode[]): HypothesisTreeNode[] => {
    list.sort((a, b) => b.confidence - a.confidence || a.id.localeCompare(b.id));
    for (const node of list) order(node.children);
    return list;
  };
  return order(roots);
}

/** An incident as `get_incident` returns it: times as ISO strings, hypotheses as a tree. */
export function describeIncident(detail: IncidentDetail): Record<string, unknown> {
  return {
    id: detail.id,
    title: detail.title,
    state: detail.state,
    severity: detail.severity,
    openedAt: new Date(detail.openedAt).toISOString(),
    timeline: detail.timeline.map((entry) => ({ ...entry, at: new Date(entry.at).toISOString() })),
    hypotheses: hypothesisTree(detail.hypotheses),
    ...(detail.report ? { report: detail.report } : {}),
  };
}

/** Registers `list_incidents` and `get_incident`: reads only. */
export function registerIncidentTools(
  server: McpServer,
  dependencies: { incidents: IncidentReader; logger: Logger; maxOutputBytes: number },
): void {
  const { incidents, logger, maxOutputBytes } = dependencies;

  server.registerTool(
    'list_incidents',
    {
      title: 'List incidents',
      description: 'Incidents nightshift knows, newest first, optionally only those in one state.',
      inputSchema: {
        state: z.enum(incidentStates).optional().describe('Only incidents in this state'),
        limit: z.number().int().min(1).max(200).default(20).describe('At most this many'),
      },
      annotations: READ_ONLY,
    },
    (input) =>
      guarded(logger, 'list_incidents', async () => {
        const list = await incidents.list({
          limit: input.limit,
          ...(input.state ? { state: input.state } : {}),
        });
        return jsonResult(
          {
            incidents: list.map((incident) => ({
              ...incident,
              openedAt: new Date(incident.openedAt).toISOString(),
            })),
          },
          maxOutputBytes,
        );
      }),
  );

  server.registerTool(
    'get_incident',
    {
      title: 'Get incident',
      description:
        'One incident: its timeline, the tree of root-cause hypotheses with their confidence and ' +
        'evidence, and its report when written.',
      inputSchema: { id: z.string().min(1).max(1024).describe('The incident id, e.g. incident:abc123') },
      annotations: READ_ONLY,
    },
    (input) =>
      guarded(logger, 'get_incident', async () => {
        const detail = await incidents.get(input.id);
        if (!detail) return errorResult(`no incident "${input.id}"`);
        return jsonResult(describeIncident(detail), maxOutputBytes);
      }),
  );
}
