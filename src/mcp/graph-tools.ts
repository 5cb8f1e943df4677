import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { ENTITY_KINDS, RELATIONSHIP_KINDS, type Entity } from '../graph/schema.js';
import type { GraphStore, PathStep, Reached } from '../graph/store.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import { errorResult, guarded, jsonResult } from './tool-result.js';

const READ_ONLY = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };

const entityIdSchema = z.string().min(1).max(1024).describe('A graph entity id, e.g. service:checkout');
const relationshipKindsSchema = z
  .array(z.enum(RELATIONSHIP_KINDS))
  .min(1)
  .optional()
  .describe('Relationship kinds to follow; default all');
const limitSchema = z.number().int().min(1).max(500).default(100).describe('At most this many results');

/** How an entity is shown to a client: identity, properties and provenance, times as ISO strings. */
export function describeEntity(entity: Entity): Record<string, unknown> {
  return {
    id: entity.id,
    kind: entity.kind,
    ...(entity.name ? { name: entity.name } : {}),
    properties: entity.properties,
    source: entity.provenance.source,
    confidence: entity.provenance.confidence,
    lastSeen: new Date(entity.provenance.lastSeen).toISOString(),
  };
}

function describeStep(step: PathStep): string {
  return `${step.from} -[${step.kind}]-> ${step.to}${step.confidence < 1 ? ` (confidence ${step.confidence})` : ''}`;
}

function describeReached(reached: Reached): Record<string, unknown> {
  return {
    ...describeEntity(reached.entity),
    distance: reached.distance,
    path: reached.path.map(describeStep),
  };
}

/** What the graph tools need. */
export interface GraphToolDependencies {
  graph: GraphStore;
  clock: Clock;
  logger: Logger;
  maxOutputBytes: number;
}

/** Registers `graph_neighbors`, `blast_radius`, `recent_changes` and `explain_path`: reads only. */
export function registerGraphTools(server: McpServer, dependencies: GraphToolDependencies): void {
  const { graph, clock, logger, maxOutputBytes } = dependencies;
  const unknown = (id: string) => errorResult(`no entity "${id}" in the graph`);

  server.registerTool(
    'graph_neighbors',
    {
      title: 'Graph neighbours',
      description:
        'Entities connected to one entity of the knowledge graph within a number of hops, nearest first, ' +
        'each with the path of relationships that reaches it.',
      inputSchema: {
        id: entityIdSchema,
        depth: z.number().int().min(1).max(6).default(1).describe('Hops, 1 to 6'),
        direction: z.enum(['out', 'in', 'both']).default('both').describe('Edge direction to follow'),
        relationshipKinds: relationshipKindsSchema,
        entityKinds: z.array(z.enum(ENTITY_KINDS)).min(1).optional().describe('Only return these kinds'),
        limit: limitSchema,
      },
      annotations: READ_ONLY,
    },
    (input) =>
      guarded(logger, 'graph_neighbors', async () => {
        const root = await graph.get(input.id);
        if (!root) return unknown(input.id);
        const reached = await graph.neighbors(input.id, {
          depth: input.depth,
          direction: input.direction,
          limit: input.limit,
          ...(input.relationshipKinds ? { kinds: input.relationshipKinds } : {}),
          ...(input.entityKinds ? { entityKinds: input.entityKinds } : {}),
        });
        return jsonResult(
          { entity: describeEntity(root), neighbors: reached.map(describeReached) },
          maxOutputBytes,
        );
      }),
  );

  server.registerTool(
    'blast_radius',
    {
      title: 'Blast radius',
      description:
        'What impact reaches from an entity along dependency edges: downstream (what is hurt if it fails ' +
        'or changes), upstream (what it depends on, where a cause may lie) or both.',
      inputSchema: {
        id: entityIdSchema,
        direction: z.enum(['upstream', 'downstream', 'both']).default('downstream'),
        maxDepth: z.number().int().min(1).max(6).default(3).describe('Hops, 1 to 6'),
        limit: limitSchema,
      },
      annotations: READ_ONLY,
    },
    (input) =>
      guarded(logger, 'blast_radius', async () => {
        const root = await graph.get(input.id);
        if (!root) return unknown(input.id);
        const reached = await graph.blastRadius(input.id, {
          direction: input.direction,
          maxDepth: input.maxDepth,
          limit: input.limit,
        });
        return jsonResult(
          {
            entity: describeEntity(root),
            direction: input.direction,
            maxDepth: input.maxDepth,
            reached: reached.map(describeReached),
          },
          maxOutputBytes,
        );
      }),
  );

  server.registerTool(
    'recent_changes',
    {
      title: 'Recent changes',
      description:
        'Deploys, rollbacks, config changes, flag flips, scaling and node events in a time window on the ' +
        'given entities and what they depend on, nearest in the graph first, then newest.',
      inputSchema: {
        ids: z.array(entityIdSchema).min(1).max(50).describe('Entities to look around'),
        window: z
          .string()
          .regex(/^\d+(ms|s|m|h|d)$/, 'must be a duration such as 30m, 2h or 1d')
          .default('2h')
          .describe('How far back from now, e.g. 30m, 2h, 1d'),
        maxDepth: z.number().int().min(0).max(6).default(2).describe('Hops of dependencies to include'),
        limit: z.number().int().min(1).max(200).default(50),
      },
      annotations: READ_ONLY,
    },
    (input) =>
      guarded(logger, 'recent_changes', async () => {
        const now = clock.now();
        const changes = await graph.recentChanges(input.ids, {
          window: input.window,
          now,
          maxDepth: input.maxDepth,
          limit: input.limit,
        });
        return jsonResult(
          {
            window: input.window,
            until: new Date(now).toISOString(),
            changes: changes.map((change) => ({
              kind: change.event.kind,
              entityId: change.event.entityId,
              at: new Date(change.event.at).toISOString(),
              summary: change.event.summary ?? null,
              properties: change.event.properties,
              source: change.event.source,
              distance: change.distance,
              path: change.path.map(describeStep),
            })),
          },
          maxOutputBytes,
        );
      }),
  );

  server.registerTool(
    'explain_path',
    {
      title: 'Explain path',
      description:
        'One shortest chain of relationships between two entities, ignoring edge direction: how a ' +
        'symptom and a suspected cause are connected.',
      inputSchema: {
        from: entityIdSchema,
        to: entityIdSchema,
        maxDepth: z.number().int().min(1).max(8).default(6).describe('Longest path considered'),
        relationshipKinds: relationshipKindsSchema,
      },
      annotations: READ_ONLY,
    },
    (input) =>
      guarded(logger, 'explain_path', async () => {
        for (const id of [input.from, input.to]) if (!(await graph.get(id))) return unknown(id);
        const steps = await graph.explainPath(input.from, input.to, {
          maxDepth: input.maxDepth,
          ...(input.relationshipKinds ? { kinds: input.relationshipKinds } : {}),
        });
        return jsonResult(
          steps === null
            ? {
                from: input.from,
                to: input.to,
                path: null,
                explanation: `no path within ${input.maxDepth} hops`,
              }
            : { from: input.from, to: input.to, hops: steps.length, path: steps.map(describeStep) },
          maxOutputBytes,
        );
      }),
  );
}
