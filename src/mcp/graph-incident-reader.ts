import type { Entity, GraphEvent, Properties } from '../graph/schema.js';
import type { GraphStore } from '../graph/store.js';
import type { Evidence, Hypothesis, IncidentDetail, IncidentReader, IncidentSummary } from './types.js';

/** Most incidents `list` scans before sorting by `openedAt`. */
const SCAN_LIMIT = 100_000;
/** Most timeline events and evidence events read per incident or hypothesis. */
const EVENT_LIMIT = 500;

function text(properties: Properties, key: string): string | undefined {
  const value = properties[key];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function number(properties: Properties, key: string): number | undefined {
  const value = properties[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function summarize(entity: Entity): IncidentSummary {
  const { properties } = entity;
  return {
    id: entity.id,
    state: text(properties, 'state') ?? 'open',
    severity: text(properties, 'severity') ?? 'unknown',
    title: text(properties, 'title') ?? entity.name ?? entity.id,
    openedAt: number(properties, 'openedAt') ?? entity.provenance.firstSeen,
  };
}

function evidenceFromEvent(event: GraphEvent): Evidence {
  const supports = event.properties.supports;
  const source = event.properties.tool ?? event.properties.evidenceSource;
  return {
    summary: event.summary ?? event.kind,
    ...(typeof supports === 'boolean' ? { supports } : {}),
    ...(typeof source === 'string' ? { source } : {}),
    at: event.at,
  };
}

/**
 * Reads incidents from the knowledge graph. The conventions it reads (and the incident store
 * writes):
 *
 * - an `Incident` entity: name or `title` property, `state`, `severity`, `openedAt` (ms; else
 *   its first-seen time) and an optional `report` (Markdown) property;
 * - its timeline: the events recorded on the incident entity, oldest first (`summary`, and a
 *   `by` property naming the actor);
 * - its hypotheses: `Hypothesis` entities it points to with `EXPLAINED_BY`, each with
 *   `statement` (else its name), `status`, optional `parent` (the id of the hypothesis it
 *   refines) and `category`, and the entity's own `confidence` as the hypothesis's confidence; evidence is the hypothesis's `evidence` list property
 *   plus the events recorded on the hypothesis (`supports` boolean and `tool` properties).
 *
 * Read-only; never writes to the store.
 */
export function graphIncidentReader(graph: GraphStore): IncidentReader {
  return {
    async list({ state, limit }) {
      const entities = await graph.find({
        kind: 'Incident',
        ...(state ? { where: { state } } : {}),
        limit: SCAN_LIMIT,
      });
      return entities
        .map(summarize)
        .sort((a, b) => b.openedAt - a.openedAt || a.id.localeCompare(b.id))
        .slice(0, limit);
    },

    async get(id) {
      const entity = await graph.get(id);
      if (!entity || entity.kind !== 'Incident') return undefined;
      const [events, reached] = await Promise.all([
        graph.events(id, { limit: EVENT_LIMIT }),
        graph.neighbors(id, {
          kinds: ['EXPLAINED_BY'],
          direction: 'out',
          entityKinds: ['Hypothesis'],
          limit: EVENT_LIMIT,
        }),
      ]);
      const hypotheses = await Promise.all(
        reached.map(async ({ entity: node }): Promise<Hypothesis> => {
          const { properties } = node;
          const listed = properties.evidence;
          const evidence: Evidence[] = Array.isArray(listed)
            ? listed.map((item) => ({ summary: String(item) }))
            : [];
          const recorded = await graph.events(node.id, { limit: EVENT_LIMIT });
          evidence.push(...recorded.reverse().map(evidenceFromEvent));
          const parentId = text(properties, 'parent');
          const category = text(properties, 'category');
          return {
            id: node.id,
            statement: text(properties, 'statement') ?? node.name ?? node.id,
            status: text(properties, 'status') ?? 'open',
            confidence: node.provenance.confidence,
            ...(parentId ? { parentId } : {}),
            ...(category ? { category } : {}),
            evidence,
          };
        }),
      );
      const report = text(entity.properties, 'report');
      const detail: IncidentDetail = {
        ...summarize(entity),
        timeline: events
          .slice()
          .reverse()
          .map((event) => {
            const by = event.properties.by;
            return {
              at: event.at,
              kind: event.kind,
              summary: event.summary ?? event.kind,
              ...(typeof by === 'string' ? { by } : {}),
            };
          }),
        hypotheses,
        ...(report ? { report } : {}),
      };
      return detail;
    },
  };
}
