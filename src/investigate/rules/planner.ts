import type { BudgetRemaining } from '../budget.js';
import type { InvestigationContext, SimilarBrief } from '../context.js';
import {
  REFUTE_THRESHOLD,
  standardStop,
  updateConfidence,
  type Assessment,
  type CheckOutcome,
  type PlannedCheck,
  type PlannerRun,
  type PlannerRunOptions,
} from '../planner.js';
import { parseK8sId, type TargetInfo } from '../targets.js';
import type { ToolSet } from '../tools/tool.js';
import type { HypothesisDraft } from '../tree.js';
import { CHANGE_CATEGORIES, type Hypothesis } from '../types.js';
import { CATALOG, CHECKS, type CheckEnv } from './checks.js';
import { discoverFromLogs, newDrafts, type DiscoveredDraft } from './discover.js';
import { proposeFromContext } from './priors.js';
import { DATADOG_QUERIES, PROMETHEUS_QUERIES, type RuleQueries } from './queries.js';

/** Options of the rules planner. */
export interface RulesPlannerOptions {
  /** Metric and log query templates; default Datadog names when `datadog_metrics` is offered, else Prometheus names. */
  queries?: Partial<RuleQueries>;
  /** Most root hypotheses proposed; default 16. */
  maxHypotheses?: number;
  /** The investigation clock, for metric windows; default Date.now. */
  now?: () => number;
}

const WAITS_FOR: Record<string, string> = { error_logs: 'pods', caller_logs: 'caller_pods' };

/**
 * A known pattern that held ends the investigation unless a rival is still this likely: a recent
 * change (a deploy, configuration or flag) is worth ruling out above `change`; anything else only
 * above `other`.
 */
const KNOWN_PATTERN_RIVAL_CEILING = { change: 0.25, other: 0.5 } as const;

function fallbackTarget(id: string): TargetInfo {
  const parsed = parseK8sId(id);
  if (parsed) {
    const target: TargetInfo = {
      id,
      kind: parsed.kind === 'Node' ? 'Node' : 'Workload',
      name: parsed.name,
      cluster: parsed.cluster,
    };
    if (parsed.namespace) target.namespace = parsed.namespace;
    if (target.kind === 'Workload')
      target.workload = {
        kind: parsed.kind,
        name: parsed.name,
        ...(parsed.namespace ? { namespace: parsed.namespace } : {}),
        id,
      };
    target.service = parsed.name;
    return target;
  }
  const name = decodeURIComponent(
    id
      .slice(id.indexOf(':') + 1)
      .split('/')
      .pop() ?? id,
  );
  return { id, kind: id.startsWith('service:') ? 'Service' : 'unknown', name, service: name };
}

function queriesFor(tools: ToolSet, overrides: Partial<RuleQueries> | undefined): RuleQueries {
  const base =
    tools.get('datadog_metrics') || !tools.get('prometheus_query') ? DATADOG_QUERIES : PROMETHEUS_QUERIES;
  return { ...base, ...(overrides ?? {}) };
}

/** The moment a suspected cause began: the change on the suspect (deploy, flip) closest before the incident. */
function pivotFor(
  context: InvestigationContext,
  hypothesis: Hypothesis,
  target: TargetInfo,
): number | undefined {
  if (hypothesis.category === 'noisy_neighbor')
    return context.newNeighbors.find((item) => item.id === target.id || item.id === target.workload?.id)
      ?.since;
  const kinds =
    hypothesis.category === 'deploy_regression'
      ? ['deploy', 'rollback']
      : hypothesis.category === 'flag_change'
        ? ['flag-flip']
        : hypothesis.category === 'config_change'
          ? ['config-change', 'deploy']
          : [];
  const changes = [...context.recentChanges, ...context.estateChanges]
    .filter(
      (change) =>
        kinds.includes(change.kind) &&
        (change.entityId === target.id || change.entityId === target.workload?.id),
    )
    .filter((change) => change.at <= context.openedAt + 120_000)
    .sort((a, b) => b.at - a.at);
  return changes[0]?.at;
}

/** A deterministic run over the check catalog; needs no key and never calls a model. */
export class RulesRun implements PlannerRun {
  readonly #context: InvestigationContext;
  readonly #tools: ToolSet;
  readonly #queries: RuleQueries;
  readonly #threshold: number;
  readonly #maxHypotheses: number;
  readonly #now: () => number;
  /** Per hypothesis: checks issued, and memos of earlier outputs. */
  readonly #issued = new Map<string, Set<string>>();
  readonly #memo = new Map<string, Map<string, unknown>>();
  readonly #shared = new Map<string, unknown>();
  readonly #symptoms: TargetInfo[];
  /** Hypotheses the logs pointed at, not yet handed to the engine. */
  #discovered: DiscoveredDraft[] = [];
  /** The tree as of the last round, by id (for a hypothesis' parent). */
  #nodes = new Map<string, Hypothesis>();
  /** Per suspect: the service whose logs pointed at it (its caller). */
  readonly #callers = new Map<string, string>();

  constructor(options: PlannerRunOptions, planner: RulesPlannerOptions = {}) {
    this.#context = options.context;
    this.#tools = options.tools;
    this.#threshold = options.supportThreshold;
    this.#queries = queriesFor(options.tools, planner.queries);
    this.#maxHypotheses = planner.maxHypotheses ?? 16;
    this.#now = planner.now ?? Date.now;
    this.#symptoms = options.context.symptoms.map((symptom) => this.#target(symptom.id));
  }

  #target(id: string): TargetInfo {
    return this.#context.targets[id] ?? this.#context.services[id] ?? fallbackTarget(id);
  }

  #env(hypothesis: Hypothesis): CheckEnv {
    let memo = this.#memo.get(hypothesis.id);
    if (!memo) {
      memo = new Map();
      this.#memo.set(hypothesis.id, memo);
    }
    const target = this.#target(hypothesis.suspect);
    const pivot = pivotFor(this.#context, hypothesis, target);
    const caller = this.#callers.get(hypothesis.suspect);
    const parent = hypothesis.parentId ? this.#nodes.get(hypothesis.parentId) : undefined;
    return {
      ...(caller ? { caller } : {}),
      ...(parent ? { parent: { hypothesis: parent, target: this.#target(parent.suspect) } } : {}),
      context: this.#context,
      hypothesis,
      target,
      symptoms: this.#symptoms,
      ...(pivot !== undefined ? { pivot } : {}),
      now: this.#now(),
      tools: this.#tools,
      queries: this.#queries,
      memo,
      shared: this.#shared,
    };
  }

  propose(): Promise<HypothesisDraft[]> {
    return Promise.resolve(proposeFromContext(this.#context, this.#maxHypotheses));
  }

  /** A past incident, resolved, whose cause was this hypothesis's category on its suspect. */
  #knownPattern(hypothesis: Hypothesis): SimilarBrief | undefined {
    return this.#context.similarIncidents.find(
      (incident) =>
        incident.resolved === true &&
        incident.category === hypothesis.category &&
        incident.suspect === hypothesis.suspect,
    );
  }

  /**
   * The next check of each live hypothesis, highest confidence first. A known pattern (the cause
   * of a similar past incident that resolved) is tested first and alone while it has checks left:
   * if it holds, its rivals may not need testing at all (`shouldStop`).
   */
  nextChecks(tree: readonly Hypothesis[], budget: BudgetRemaining): Promise<PlannedCheck[]> {
    this.#nodes = new Map(tree.map((node) => [node.id, node]));
    const live = tree
      .filter((node) => node.status === 'open' || node.status === 'testing')
      .sort((a, b) => b.confidence - a.confidence || (a.id < b.id ? -1 : 1));
    const checks: PlannedCheck[] = [];
    for (const known of live.filter((node) => this.#knownPattern(node))) {
      const check = budget.toolCalls > 0 ? this.#nextFor(known) : undefined;
      if (check) return Promise.resolve([check]);
    }
    for (const hypothesis of live) {
      if (checks.length >= budget.toolCalls) break;
      const check = this.#nextFor(hypothesis);
      if (check) checks.push(check);
    }
    return Promise.resolve(checks);
  }

  #nextFor(hypothesis: Hypothesis): PlannedCheck | undefined {
    let issued = this.#issued.get(hypothesis.id);
    if (!issued) {
      issued = new Set();
      this.#issued.set(hypothesis.id, issued);
    }
    const env = this.#env(hypothesis);
    for (const name of CATALOG[hypothesis.category]) {
      if (issued.has(name)) continue;
      const definition = CHECKS[name];
      if (!definition) continue;
      const call = definition.build(env);
      if (!call) {
        const prerequisite = WAITS_FOR[name];
        // A logs check waits for its pods listing when that listing is still to come.
        if (prerequisite && !issued.has(prerequisite) && CHECKS[prerequisite]?.build(env)) {
          const listing = CHECKS[prerequisite].build(env);
          issued.add(prerequisite);
          return listing
            ? { hypothesisId: hypothesis.id, tool: listing.tool, input: listing.input, check: prerequisite }
            : undefined;
        }
        issued.add(name);
        continue;
      }
      issued.add(name);
      return { hypothesisId: hypothesis.id, tool: call.tool, input: call.input, check: name };
    }
    return undefined;
  }

  /** Has the hypothesis run out of checks? */
  isExhausted(hypothesis: Hypothesis): boolean {
    const issued = this.#issued.get(hypothesis.id) ?? new Set<string>();
    return CATALOG[hypothesis.category].every((name) => issued.has(name));
  }

  assess(
    items: ReadonlyArray<{ hypothesis: Hypothesis; outcomes: readonly CheckOutcome[] }>,
  ): Promise<Assessment[]> {
    return Promise.resolve(
      items.map(({ hypothesis, outcomes }) => {
        const env = this.#env(hypothesis);
        const verdicts = outcomes.map((outcome) => {
          const definition = outcome.check ? CHECKS[outcome.check] : undefined;
          if (outcome.result.status === 'error')
            return {
              callId: outcome.callId,
              verdict: 'neutral' as const,
              weight: 0,
              rationale: `the call failed: ${outcome.result.summary}`,
            };
          const judged = definition
            ? definition.assess(env, outcome)
            : { verdict: 'neutral' as const, weight: 0, rationale: 'no rule reads this output' };
          this.#discovered.push(...discoverFromLogs(env, outcome));
          return { callId: outcome.callId, ...judged };
        });
        return {
          hypothesisId: hypothesis.id,
          verdicts,
          confidence: updateConfidence(hypothesis.confidence, verdicts),
        };
      }),
    );
  }

  /** When a failing dependency is supported, asks why it fails: a deploy, saturation or a leak of its own. */
  expand(hypothesis: Hypothesis): Promise<HypothesisDraft[]> {
    if (hypothesis.category !== 'dependency_failure') return Promise.resolve([]);
    const target = this.#target(hypothesis.suspect);
    const suspect = target.workload?.id ?? hypothesis.suspect;
    const name = target.service ?? target.name;
    const drafts: HypothesisDraft[] = [];
    const deploy = this.#context.recentChanges.find(
      (change) =>
        change.kind === 'deploy' && (change.entityId === suspect || change.entityId === hypothesis.suspect),
    );
    // Did it change? Asked even when the context saw no deploy of it: a dependency a few hops
    // from the symptoms may have been rolled out outside the context's reach.
    drafts.push({
      category: 'deploy_regression',
      suspect: deploy?.entityId ?? suspect,
      statement: `A deploy of ${name} broke it`,
      prior: deploy ? 0.4 : 0.2,
    });
    drafts.push({ category: 'resource_saturation', suspect, statement: `${name} is saturated`, prior: 0.15 });
    drafts.push({ category: 'memory_leak', suspect, statement: `${name} leaks memory`, prior: 0.1 });
    // A node in trouble under it: its pods are evicted or starved there.
    for (const change of this.#context.recentChanges
      .filter((item) => item.kind === 'node-event')
      .slice(0, 3)) {
      const node = this.#target(change.entityId);
      drafts.push({
        category: 'node_issue',
        suspect: change.entityId,
        statement: `${name} fails because node ${node.name} under its pods is unhealthy`,
        prior: 0.3,
      });
    }
    // A datastore out of connections or memory is often exhausted by one client's new release.
    if (target.kind === 'Datastore' || target.kind === 'Queue' || target.workload?.kind === 'StatefulSet')
      for (const change of this.#clientReleases(name, suspect))
        drafts.push({
          category: 'deploy_regression',
          suspect: change.entityId,
          statement: `The release of ${this.#target(change.entityId).service ?? this.#target(change.entityId).name} at ${new Date(change.at).toISOString()} takes more of ${name} than it can give`,
          prior: 0.35,
        });
    return Promise.resolve(drafts);
  }

  /** Deploys shortly before the incident of workloads whose service depends on `datastore`, newest first, at most 3. */
  #clientReleases(datastore: string, datastoreId: string): InvestigationContext['recentChanges'] {
    const seen = new Set<string>();
    return [...this.#context.recentChanges, ...this.#context.estateChanges]
      .filter((change) => {
        if (change.kind !== 'deploy' || change.entityId === datastoreId || seen.has(change.entityId))
          return false;
        const lead = this.#context.openedAt - change.at;
        if (lead < -120_000 || lead > 3_600_000) return false;
        const client = this.#target(change.entityId);
        if (!(client.dependsOn ?? []).includes(datastore)) return false;
        seen.add(change.entityId);
        return true;
      })
      .sort((a, b) => b.at - a.at)
      .slice(0, 3);
  }

  /** Hypotheses the logs read so far point at (an expired certificate, DNS failures…), each once. */
  discover(tree: readonly Hypothesis[]): HypothesisDraft[] {
    for (const draft of this.#discovered)
      if (draft.caller && !this.#callers.has(draft.suspect)) this.#callers.set(draft.suspect, draft.caller);
    const fresh = newDrafts(this.#discovered, tree, (id) => this.#target(id).workload?.id ?? id);
    this.#discovered = [];
    return fresh;
  }

  /**
   * The standard rule (a supported cause and every rival ruled out), or a known pattern that held:
   * a supported hypothesis that repeats the resolved cause of a similar past incident, with no
   * open child, no other supported explanation and no rival above `KNOWN_PATTERN_RIVAL_CEILING`
   * (a recent change is asked about unless it is unlikely). The rivals it leaves untested stay in
   * the report.
   */
  shouldStop(tree: readonly Hypothesis[]): { stop: boolean; reason: string } {
    const standard = standardStop(tree, this.#threshold);
    if (standard.stop) return standard;
    // One explanation only: two that hold are for the standard rule to weigh.
    const supported = tree.filter((node) => !node.parentId && node.status === 'supported');
    const node = supported.length === 1 ? supported[0] : undefined;
    const known = node && node.confidence >= this.#threshold ? this.#knownPattern(node) : undefined;
    if (!node || !known) return standard;
    const live = tree.filter((other) => other.status === 'open' || other.status === 'testing');
    if (live.some((other) => other.parentId === node.id)) return standard;
    const rivals = live.filter((other) => !other.parentId);
    const ceiling = (rival: Hypothesis): number =>
      CHANGE_CATEGORIES.has(rival.category)
        ? KNOWN_PATTERN_RIVAL_CEILING.change
        : KNOWN_PATTERN_RIVAL_CEILING.other;
    if (rivals.some((rival) => rival.confidence > ceiling(rival))) return standard;
    return {
      stop: true,
      reason: `${node.category} on ${node.suspect} is supported and repeats the resolved cause of ${known.id}; ${rivals.length} unlikely rival(s) left untested`,
    };
  }

  usage(): { input: number; output: number } {
    return { input: 0, output: 0 };
  }

  fallbackReason(): undefined {
    return undefined;
  }
}

/** The deterministic planner: priors from category templates and graph facts, a check catalog, rules over outputs. */
export function createRulesPlanner(options: RulesPlannerOptions = {}): {
  readonly kind: 'rules';
  open(plannerRun: PlannerRunOptions): RulesRun;
} {
  return { kind: 'rules', open: (plannerRun) => new RulesRun(plannerRun, options) };
}

export { REFUTE_THRESHOLD };
