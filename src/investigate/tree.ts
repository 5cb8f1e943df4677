import { hypothesisId as graphHypothesisId } from '../graph/ids.js';
import { MAX_PROPERTY_BYTES } from '../graph/schema.js';
import type { GraphStore } from '../graph/store.js';
import type { Logger } from '../shared/logger.js';
import { stableHash } from '../shared/ids.js';
import type { Evidence, Hypothesis, HypothesisCategory, HypothesisStatus } from './types.js';

/** What a planner proposes; the tree gives it an id, depth and status. */
export interface HypothesisDraft {
  statement: string;
  category: HypothesisCategory;
  suspect: string;
  prior: number;
  /** The hypothesis this one explains further (a discovered draft found in its suspect's own logs). */
  parentId?: string;
}

/** The graph key of an incident id (`incident:<key>` → `<key>`; any other id is used whole). */
export function incidentKeyOf(incidentId: string): string {
  return incidentId.startsWith('incident:') ? incidentId.slice('incident:'.length) : incidentId;
}

/** The id a hypothesis gets: stable for (incident, category, suspect, parent). */
export function hypothesisIdFor(
  incidentId: string,
  category: string,
  suspect: string,
  parentId: string | null = null,
): string {
  return graphHypothesisId(
    incidentKeyOf(incidentId),
    stableHash(category, suspect, parentId ?? '').slice(0, 16),
  );
}

/**
 * The hypothesis tree of one investigation. Ids are stable (incident, category, suspect,
 * parent), so proposing the same hypothesis twice keeps one node. Every change is written to the
 * graph in order (`flush()` waits for the writes), so the tree can be read back at any moment
 * with `readHypothesisTree`.
 */
export class HypothesisTree {
  readonly #nodes = new Map<string, Hypothesis>();
  readonly #order: string[] = [];
  readonly #dirty = new Set<string>();
  #writes: Promise<void> = Promise.resolve();
  #writeError: unknown;

  constructor(
    readonly incidentId: string,
    private readonly graph: GraphStore | undefined,
    private readonly logger: Logger,
    private readonly now: () => number,
  ) {}

  /** Adds a hypothesis (or returns the existing one with the same category, suspect and parent). */
  add(draft: HypothesisDraft, parentId: string | null = null): Hypothesis {
    const id = hypothesisIdFor(this.incidentId, draft.category, draft.suspect, parentId);
    const existing = this.#nodes.get(id);
    if (existing) return existing;
    const parent = parentId ? this.#nodes.get(parentId) : undefined;
    const prior = clamp(draft.prior);
    const node: Hypothesis = {
      id,
      parentId: parent ? parent.id : null,
      statement: draft.statement.slice(0, 500),
      category: draft.category,
      suspect: draft.suspect,
      prior,
      confidence: prior,
      status: 'open',
      evidence: [],
      children: [],
      depth: parent ? parent.depth + 1 : 0,
    };
    this.#nodes.set(id, node);
    this.#order.push(id);
    if (parent) {
      parent.children.push(id);
      this.#dirty.add(parent.id);
    }
    this.#dirty.add(id);
    return node;
  }

  get(id: string): Hypothesis | undefined {
    return this.#nodes.get(id);
  }

  /** Every hypothesis in the order added. */
  all(): Hypothesis[] {
    return this.#order.map((id) => this.#nodes.get(id) as Hypothesis);
  }

  /** Hypotheses still worth testing (open or testing). */
  live(): Hypothesis[] {
    return this.all().filter((node) => node.status === 'open' || node.status === 'testing');
  }

  addEvidence(id: string, evidence: Evidence): void {
    const node = this.#nodes.get(id);
    if (!node) return;
    node.evidence.push(evidence);
    this.#dirty.add(id);
  }

  update(id: string, change: { confidence?: number; status?: HypothesisStatus }): void {
    const node = this.#nodes.get(id);
    if (!node) return;
    if (change.confidence !== undefined) node.confidence = clamp(change.confidence);
    if (change.status !== undefined) node.status = change.status;
    this.#dirty.add(id);
  }

  /** A deep copy, safe to hand out. */
  snapshot(): Hypothesis[] {
    return structuredClone(this.all());
  }

  /** Queues a write of every changed hypothesis; returns once it is durable (never throws). */
  persist(): Promise<void> {
    if (!this.graph || this.#dirty.size === 0) return this.#writes;
    const changed = [...this.#dirty].map((id) => this.#nodes.get(id) as Hypothesis);
    this.#dirty.clear();
    const graph = this.graph;
    const at = this.now();
    this.#writes = this.#writes.then(async () => {
      try {
        await writeHypotheses(graph, this.incidentId, structuredClone(changed), at);
      } catch (error) {
        this.#writeError = error;
        this.logger.warn({ err: error, incidentId: this.incidentId }, 'hypothesis tree write failed');
      }
    });
    return this.#writes;
  }

  /** The last write error, if a write failed (the investigation goes on without the graph copy). */
  get writeError(): unknown {
    return this.#writeError;
  }
}

function clamp(value: number): number {
  return Number.isFinite(value) ? Math.min(1, Math.max(0, Number(value.toFixed(4)))) : 0;
}

function evidenceJson(evidence: readonly Evidence[]): string {
  let list = [...evidence];
  let text = JSON.stringify(list);
  while (Buffer.byteLength(text, 'utf8') > MAX_PROPERTY_BYTES - 64 && list.length > 0) {
    list = list.slice(1);
    text = JSON.stringify(list);
  }
  return text;
}

async function writeHypotheses(
  graph: GraphStore,
  incidentId: string,
  nodes: Hypothesis[],
  at: number,
): Promise<void> {
  if (!(await graph.get(incidentId))) {
    await graph.upsertEntities([
      { id: incidentId, kind: 'Incident', source: 'investigate', confidence: 0.5, observedAt: at },
    ]);
  }
  await graph.upsertEntities(
    nodes.map((node) => ({
      id: node.id,
      kind: 'Hypothesis' as const,
      name: node.statement.slice(0, 200),
      source: 'investigate',
      observedAt: at,
      properties: {
        statement: node.statement,
        category: node.category,
        suspect: node.suspect,
        prior: node.prior,
        score: node.confidence,
        status: node.status,
        parentHypothesis: node.parentId ?? '',
        depth: node.depth,
        children: node.children,
        evidenceCount: node.evidence.length,
        evidence: evidenceJson(node.evidence),
      },
    })),
  );
  await graph.upsertRelationships(
    nodes.map((node) => ({
      kind: 'EXPLAINED_BY' as const,
      from: incidentId,
      to: node.id,
      source: 'investigate',
      observedAt: at,
      properties: { score: node.confidence, status: node.status },
    })),
  );
}

/** Reads an incident's hypothesis tree back from the graph, in depth then id order. */
export async function readHypothesisTree(graph: GraphStore, incidentId: string): Promise<Hypothesis[]> {
  const reached = await graph.neighbors(incidentId, {
    kinds: ['EXPLAINED_BY'],
    direction: 'out',
    entityKinds: ['Hypothesis'],
    limit: 1000,
  });
  const nodes = reached.map(({ entity }) => {
    const p = entity.properties;
    let evidence: Evidence[] = [];
    try {
      evidence = JSON.parse(String(p.evidence ?? '[]')) as Evidence[];
    } catch {
      evidence = [];
    }
    return {
      id: entity.id,
      parentId: p.parentHypothesis ? String(p.parentHypothesis) : null,
      statement: String(p.statement ?? entity.name ?? ''),
      category: String(p.category ?? 'unknown') as HypothesisCategory,
      suspect: String(p.suspect ?? ''),
      prior: Number(p.prior ?? 0),
      confidence: Number(p.score ?? 0),
      status: String(p.status ?? 'open') as HypothesisStatus,
      evidence,
      children: Array.isArray(p.children) ? p.children.map(String) : [],
      depth: Number(p.depth ?? 0),
    } satisfies Hypothesis;
  });
  return nodes.sort((a, b) => a.depth - b.depth || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
