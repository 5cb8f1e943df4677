import { z } from 'zod';
import { EVENT_KINDS, RELATIONSHIP_KINDS } from '../../graph/schema.js';
import type { GraphStore, PathStep, Reached } from '../../graph/store.js';
import { describeError } from '../../shared/errors.js';
import { defineTool, type ReadOnlyTool, type ToolResult } from './tool.js';
import { changeBrief } from '../context.js';

/** A reached entity, compact. */
export interface ReachedSummary {
  id: string;
  kind: string;
  name?: string;
  distance: number;
  via: string;
}

function via(path: readonly PathStep[]): string {
  return path.map((step) => `${step.from} -${step.kind}-> ${step.to}`).join(' , ');
}

function reached(items: readonly Reached[]): ReachedSummary[] {
  return items.map((item) => ({
    id: item.entity.id,
    kind: item.entity.kind,
    ...(item.entity.name ? { name: item.entity.name } : {}),
    distance: item.distance,
    via: via(item.path),
  }));
}

/** A change event near the entities asked about. */
export interface ChangeSummary {
  eventId: string;
  kind: string;
  entityId: string;
  at: number;
  summary?: string;
  distance: number;
  properties: Record<string, unknown>;
}

const id = z.string().min(1).max(1024);

/** Graph reads: neighbors, blast radius, recent changes and explain path. */
export function createGraphTools(graph: GraphStore): ReadOnlyTool[] {
  const neighbors = defineTool({
    name: 'graph_neighbors',
    description: 'Entities next to a graph entity (by relationship kinds and direction), up to a few hops.',
    input: z.strictObject({
      id,
      kinds: z.array(z.enum(RELATIONSHIP_KINDS)).optional(),
      direction: z.enum(['out', 'in', 'both']).default('both'),
      depth: z.number().int().min(1).max(3).default(1),
    }),
    async run(input): Promise<ToolResult<{ items: ReachedSummary[] }>> {
      try {
        const items = reached(
          await graph.neighbors(input.id, {
            direction: input.direction,
            depth: input.depth,
            limit: 200,
            ...(input.kinds ? { kinds: input.kinds } : {}),
          }),
        );
        if (items.length === 0) return { status: 'no_data', summary: `${input.id} has no neighbors` };
        return {
          status: 'ok',
          summary: `${items.length} neighbors of ${input.id}: ${items
            .slice(0, 6)
            .map((item) => item.id)
            .join(', ')}`,
          data: { items },
        };
      } catch (error) {
        return { status: 'error', summary: `graph neighbors: ${describeError(error)}` };
      }
    },
  });

  const blast = defineTool({
    name: 'graph_blast_radius',
    description: 'What a failure of an entity reaches (downstream) or what it depends on (upstream).',
    input: z.strictObject({
      id,
      direction: z.enum(['upstream', 'downstream', 'both']).default('downstream'),
      maxDepth: z.number().int().min(1).max(6).default(3),
    }),
    async run(input): Promise<ToolResult<{ items: ReachedSummary[] }>> {
      try {
        const items = reached(
          await graph.blastRadius(input.id, {
            direction: input.direction,
            maxDepth: input.maxDepth,
            limit: 200,
          }),
        );
        if (items.length === 0)
          return { status: 'no_data', summary: `nothing ${input.direction} of ${input.id}` };
        return {
          status: 'ok',
          summary: `${items.length} entities ${input.direction} of ${input.id}: ${items
            .slice(0, 6)
            .map((item) => item.id)
            .join(', ')}`,
          data: { items },
        };
      } catch (error) {
        return { status: 'error', summary: `graph blast radius: ${describeError(error)}` };
      }
    },
  });

  const changes = defineTool({
    name: 'graph_recent_changes',
    description:
      'Deploys, config changes, flag flips, scaling and node events on the given entities and what they depend on, in a window before now.',
    input: z.strictObject({
      ids: z.array(id).min(1).max(20),
      windowMinutes: z
        .number()
        .int()
        .min(1)
        .max(7 * 24 * 60)
        .default(120),
      maxDepth: z.number().int().min(0).max(6).default(2),
      kinds: z.array(z.enum(EVENT_KINDS)).optional(),
    }),
    async run(input, context): Promise<ToolResult<{ changes: ChangeSummary[] }>> {
      try {
        const found = await graph.recentChanges(input.ids, {
          window: input.windowMinutes * 60_000,
          now: context.now,
          maxDepth: input.maxDepth,
          limit: 50,
          ...(input.kinds ? { kinds: input.kinds } : {}),
        });
        const list: ChangeSummary[] = found.map(changeBrief);
        if (list.length === 0)
          return { status: 'no_data', summary: 'no changes in the window', data: { changes: list } };
        return {
          status: 'ok',
          summary: `${list.length} changes: ${list
            .slice(0, 5)
            .map((change) => `${change.kind} ${change.entityId} at ${new Date(change.at).toISOString()}`)
            .join('; ')}`,
          data: { changes: list },
        };
      } catch (error) {
        return { status: 'error', summary: `graph recent changes: ${describeError(error)}` };
      }
    },
  });

  const explain = defineTool({
    name: 'graph_explain_path',
    description: 'One shortest path between two graph entities (ignoring direction): how they are connected.',
    input: z.strictObject({ from: id, to: id, maxDepth: z.number().int().min(1).max(8).default(6) }),
    async run(input): Promise<ToolResult<{ path: PathStep[] }>> {
      try {
        const path = await graph.explainPath(input.from, input.to, { maxDepth: input.maxDepth });
        if (path === null) return { status: 'no_data', summary: `no path from ${input.from} to ${input.to}` };
        return { status: 'ok', summary: path.length ? via(path) : 'the same entity', data: { path } };
      } catch (error) {
        return { status: 'error', summary: `graph explain path: ${describeError(error)}` };
      }
    },
  });

  return [neighbors, blast, changes, explain] as ReadOnlyTool[];
}
