import { stableId } from '../../shared/ids.js';
import { redactText } from '../redact/redact.js';
import { clip } from '../signal.js';
import { isVariable, tokenize, WILDCARD } from './tokenize.js';

/** A log template: the shape shared by many lines, with `<*>` where they differ. */
export interface LogTemplate {
  /** Stable for the template's life, from the first line that made it. */
  id: string;
  template: string;
  count: number;
  /** Times as given to `add`, ms since the epoch. */
  firstSeen: number;
  lastSeen: number;
  /** The first line seen, redacted and cut to 500 characters. */
  example: string;
}

export interface TemplateMinerOptions {
  /**
   * Prefix tree depth as in Drain, counting the root, the token-count level and the leaves: depth 4
   * (the default) routes by token count and the first token; each level more adds a token.
   */
  depth?: number;
  /** Share of equal tokens (0–1) a line needs to join a template. Default 0.4 (Drain's). */
  similarity?: number;
  /** Children per tree node before new tokens route to `<*>`. Default 100. */
  maxChildren?: number;
  /** Templates kept; the least recently seen is dropped beyond it. Default 10,000. */
  maxTemplates?: number;
  /** Tokens per line considered. Default 128. */
  maxTokens?: number;
}

/** What `add` did with a line. */
export interface TemplateMatch {
  template: LogTemplate;
  /** The line started a new template. */
  created: boolean;
  /** The line widened an existing template (a token became `<*>`). */
  changed: boolean;
}

interface Cluster {
  tokens: string[];
  info: LogTemplate;
  leaf: Cluster[];
}

interface TreeNode {
  children: Map<string, TreeNode>;
  clusters: Cluster[];
}

function newNode(): TreeNode {
  return { children: new Map(), clusters: [] };
}

/**
 * A small Drain-style log template miner (He et al., "Drain: An Online Log Parsing Approach with
 * Fixed Depth Tree", ICWS 2017). Each line is redacted, masked (`tokenize`) and routed through a
 * fixed-depth prefix tree by token count and first tokens; in the leaf it joins the most similar
 * template when at least `similarity` of its tokens match, widening differing positions to `<*>`,
 * or starts a new template. Counts and first/last seen are kept per template, so `newSince(deploy)`
 * lists the templates that first appeared after a deploy. In memory; not safe across processes.
 */
export class TemplateMiner {
  readonly #root = new Map<number, TreeNode>();
  readonly #byId = new Map<string, Cluster>();
  readonly #depth: number;
  readonly #similarity: number;
  readonly #maxChildren: number;
  readonly #maxTemplates: number;
  readonly #maxTokens: number;

  constructor(options: TemplateMinerOptions = {}) {
    this.#depth = Math.max(3, options.depth ?? 4);
    this.#similarity = options.similarity ?? 0.4;
    this.#maxChildren = options.maxChildren ?? 100;
    this.#maxTemplates = options.maxTemplates ?? 10_000;
    this.#maxTokens = options.maxTokens ?? 128;
  }

  /** Adds one line seen at `at` (ms); returns its template. Empty lines get the template `""`. */
  add(line: string, at: number): TemplateMatch {
    const clean = redactText(line).value;
    const tokens = tokenize(clean, this.#maxTokens);
    const leaf = this.#leafFor(tokens);
    const best = this.#bestMatch(leaf, tokens);
    if (best) {
      let changed = false;
      best.tokens.forEach((token, index) => {
        if (token !== WILDCARD && token !== tokens[index]) {
          best.tokens[index] = WILDCARD;
          changed = true;
        }
      });
      best.info.count += 1;
      best.info.firstSeen = Math.min(best.info.firstSeen, at);
      best.info.lastSeen = Math.max(best.info.lastSeen, at);
      if (changed) best.info.template = best.tokens.join(' ');
      return { template: { ...best.info }, created: false, changed };
    }
    const template = tokens.join(' ');
    const cluster: Cluster = {
      tokens: [...tokens],
      leaf,
      info: {
        id: stableId('tpl', tokens.length, template),
        template,
        count: 1,
        firstSeen: at,
        lastSeen: at,
        example: clip(clean, 500, ''),
      },
    };
    while (this.#byId.has(cluster.info.id)) cluster.info.id = stableId('tpl', cluster.info.id);
    leaf.push(cluster);
    this.#byId.set(cluster.info.id, cluster);
    if (this.#byId.size > this.#maxTemplates) this.#evictOldest();
    return { template: { ...cluster.info }, created: true, changed: false };
  }

  /** Every template, most frequent first. */
  templates(): LogTemplate[] {
    return [...this.#byId.values()].map((cluster) => ({ ...cluster.info })).sort((a, b) => b.count - a.count);
  }

  /** Templates first seen strictly after `time` (e.g. a deploy), earliest first. */
  newSince(time: number): LogTemplate[] {
    return this.templates()
      .filter((template) => template.firstSeen > time)
      .sort((a, b) => a.firstSeen - b.firstSeen || b.count - a.count);
  }

  /** The template with this id, if still kept. */
  get(id: string): LogTemplate | undefined {
    const cluster = this.#byId.get(id);
    return cluster ? { ...cluster.info } : undefined;
  }

  get size(): number {
    return this.#byId.size;
  }

  #leafFor(tokens: readonly string[]): Cluster[] {
    let node = this.#root.get(tokens.length);
    if (!node) {
      node = newNode();
      this.#root.set(tokens.length, node);
    }
    const levels = Math.min(this.#depth - 3, tokens.length);
    for (let level = 0; level < levels; level++) {
      const token = tokens[level] ?? WILDCARD;
      let key = isVariable(token) ? WILDCARD : token;
      if (!node.children.has(key) && key !== WILDCARD && node.children.size >= this.#maxChildren)
        key = WILDCARD;
      let child = node.children.get(key);
      if (!child) {
        child = newNode();
        node.children.set(key, child);
      }
      node = child;
    }
    return node.clusters;
  }

  #bestMatch(leaf: readonly Cluster[], tokens: readonly string[]): Cluster | undefined {
    let best: Cluster | undefined;
    let bestSimilarity = -1;
    let bestWildcards = -1;
    for (const cluster of leaf) {
      if (cluster.tokens.length !== tokens.length) continue;
      let same = 0;
      let wildcards = 0;
      cluster.tokens.forEach((token, index) => {
        if (token === WILDCARD) wildcards += 1;
        else if (token === tokens[index]) same += 1;
      });
      const similarity = tokens.length === 0 ? 1 : same / tokens.length;
      if (similarity > bestSimilarity || (similarity === bestSimilarity && wildcards > bestWildcards)) {
        best = cluster;
        bestSimilarity = similarity;
        bestWildcards = wildcards;
      }
    }
    return best && bestSimilarity >= this.#similarity ? best : undefined;
  }

  #evictOldest(): void {
    let oldest: Cluster | undefined;
    for (const cluster of this.#byId.values()) {
      if (!oldest || cluster.info.lastSeen < oldest.info.lastSeen) oldest = cluster;
    }
    if (!oldest) return;
    this.#byId.delete(oldest.info.id);
    const index = oldest.leaf.indexOf(oldest);
    if (index >= 0) oldest.leaf.splice(index, 1);
  }
}
