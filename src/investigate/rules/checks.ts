import { MEMORY_NEAR_LIMIT } from '../../ingest/pollers/metrics/headroom-poller.js';
import type { InvestigationContext } from '../context.js';
import type { CheckOutcome, OutcomeVerdict } from '../planner.js';
import type { TargetInfo } from '../targets.js';
import type { EventDigest, PodLogs, PodSummary, RolloutHistory } from '../tools/kubernetes.js';
import type { LogSearchOutput } from '../tools/datadog.js';
import type { ChangeSummary } from '../tools/graph.js';
import type { MetricOutput, SeriesDigest } from '../tools/series.js';
import type { ToolSet } from '../tools/tool.js';
import type { Hypothesis, HypothesisCategory } from '../types.js';
import { fill, type RuleQueries } from './queries.js';
import { deployChanged } from './priors.js';

/** What a check sees when it builds its call and reads its outcome. */
export interface CheckEnv {
  context: InvestigationContext;
  hypothesis: Hypothesis;
  target: TargetInfo;
  /** Symptom targets (the services that show the trouble). */
  symptoms: TargetInfo[];
  /** The moment the suspected cause began, when known (a deploy, a flag flip). */
  pivot?: number;
  now: number;
  tools: ToolSet;
  queries: RuleQueries;
  /** Outputs of earlier checks of the same hypothesis, by check name. */
  memo: Map<string, unknown>;
  /** Outputs every hypothesis of the run may reuse (pod listings), by key. */
  shared?: Map<string, unknown>;
  /** The service whose logs pointed at the suspect, when the suspect was found that way: its caller. */
  caller?: string;
  /** The hypothesis this one explains further, and its target, when it has one. */
  parent?: { hypothesis: Hypothesis; target: TargetInfo };
}

type Judgement = Omit<OutcomeVerdict, 'callId'>;

/** One entry of the check catalog. */
export interface CheckDefinition {
  name: string;
  /** The call to make, or undefined when it cannot be made (yet, or with these tools). */
  build(env: CheckEnv): { tool: string; input: Record<string, unknown> } | undefined;
  assess(env: CheckEnv, outcome: CheckOutcome): Judgement;
}

const neutral = (rationale: string): Judgement => ({ verdict: 'neutral', weight: 0, rationale });
const supports = (weight: number, rationale: string): Judgement => ({
  verdict: 'supports',
  weight,
  rationale,
});
const refutes = (weight: number, rationale: string): Judgement => ({ verdict: 'refutes', weight, rationale });

const MINUTE = 60_000;

function minutesBack(env: CheckEnv): number {
  const from = Math.min(env.pivot ?? env.context.openedAt, env.context.openedAt) - 15 * MINUTE;
  return Math.max(15, Math.min(24 * 60, Math.ceil((env.now - from) / MINUTE)));
}

function pivotOf(env: CheckEnv): number {
  return env.pivot ?? env.context.openedAt - 5 * MINUTE;
}

function serviceOf(target: TargetInfo): string | undefined {
  return target.service ?? (target.kind === 'Workload' ? target.name : undefined);
}

function metricCall(
  env: CheckEnv,
  template: string,
  withPivot: boolean,
): { tool: string; input: Record<string, unknown> } | undefined {
  const service = serviceOf(env.target);
  if (!service || !env.tools.get(env.queries.metricsTool)) return undefined;
  const query = fill(template, {
    service,
    ...(env.target.namespace ? { namespace: env.target.namespace } : {}),
  });
  return {
    tool: env.queries.metricsTool,
    input: {
      query,
      fromMinutesAgo: minutesBack(env),
      ...(withPivot ? { pivotMs: Math.round(pivotOf(env)) } : {}),
    },
  };
}

function firstSeries(outcome: CheckOutcome): SeriesDigest | undefined {
  if (outcome.result.status !== 'ok') return undefined;
  return (outcome.result.data as MetricOutput | undefined)?.series[0];
}

function isChangeOn(change: ChangeSummary, target: TargetInfo): boolean {
  return change.entityId === target.id || change.entityId === target.workload?.id;
}

/** Text of the error lines a logs outcome holds, and how many there were. */
export function logText(outcome: CheckOutcome): { text: string; errors: number } | undefined {
  if (outcome.result.status === 'no_data') return { text: '', errors: 0 };
  if (outcome.result.status !== 'ok') return undefined;
  if (outcome.tool === 'datadog_logs') {
    const data = outcome.result.data as LogSearchOutput;
    const lines = [
      ...data.topMessages.map((item) => item.message),
      ...data.lines.map((line) => line.message),
    ];
    return {
      text: lines.join('\n'),
      errors: (data.byStatus.error ?? 0) + (data.byStatus.warn ?? 0) || data.total,
    };
  }
  const data = outcome.result.data as PodLogs;
  return {
    text: [...data.topErrors.map((item) => item.message), ...data.lines].join('\n'),
    errors: data.errorLines + data.warnLines,
  };
}

/** The most common error message of a logs outcome, when there is one. */
function topMessage(outcome: CheckOutcome): string | undefined {
  if (outcome.result.status !== 'ok') return undefined;
  if (outcome.tool === 'datadog_logs')
    return (outcome.result.data as LogSearchOutput).topMessages[0]?.message;
  return (outcome.result.data as PodLogs).topErrors[0]?.message;
}

const KNOWN = new WeakMap<InvestigationContext, Map<string, string>>();

/** Service names the context knows (symptoms and what they call), with the graph id to blame for each. */
export function knownServices(context: InvestigationContext): Map<string, string> {
  // Read for every log line judged; the context does not change once built.
  const cached = KNOWN.get(context);
  if (cached) return cached;
  const known = new Map<string, string>();
  KNOWN.set(context, known);
  const add = (id: string, fallbackName?: string): void => {
    const target = context.targets[id];
    const name = target?.service ?? fallbackName ?? target?.name;
    if (!name || known.has(name)) return;
    if (target && !['Service', 'Datastore', 'Queue', 'Workload', 'ExternalDependency'].includes(target.kind))
      return;
    known.set(name, target?.workload?.id ?? id);
  };
  for (const symptom of context.symptoms) add(symptom.id, symptom.name);
  for (const item of context.blastRadius.upstream)
    if (['Service', 'Datastore', 'Queue', 'ExternalDependency'].includes(item.kind)) add(item.id, item.name);
  // Targets hold every dependency within two hops, even when the lists above were cut to fit.
  for (const [id, target] of Object.entries(context.targets))
    if (['Service', 'Datastore', 'Queue', 'ExternalDependency'].includes(target.kind)) add(id);
  // Then the rest of the estate: a failed call may name a service the graph has no edge to.
  for (const [id, target] of Object.entries(context.services)) {
    const name = target.service ?? target.name;
    if (name && !known.has(name)) known.set(name, target.workload?.id ?? id);
  }
  return known;
}

/** An error line that reports a failed outbound call rather than a failure of the code itself. */
const OUTBOUND_FAILURE =
  /\bupstream\b|\bcalling\b|returned (5\d\d|an error)|connection refused|deadline exceeded|\btimed? ?out\b|bad gateway|service unavailable/i;

/** An error line that reports the code itself failing (an exception), which a restart does not cure. */
export const CODE_ERROR =
  /typeerror|referenceerror|nullpointer|null pointer|cannot read propert|is not a function|unsupported|invalid|panic:|exception|traceback|assertion/i;

/** Findings of a rollout whose new pods never serve: the old ones carry the traffic meanwhile. */
const STALLED_ROLLOUT = /CrashLoopBackOff|CreateContainerConfigError|ImagePullBackOff|ErrImagePull/;
const ROLLOUT_CATEGORIES = new Set<HypothesisCategory>(['deploy_regression', 'config_change', 'image']);

/** An error line that reports an exhausted or stuck process, which a restart can clear. */
const STUCK_PROCESS =
  /exhausted|no (\w+ )?(workers?|threads?|connections?) available|deadlock|hung|stuck|too many open files|unresponsive|not responding|queued/i;

/** The graph kind of a known service (Service, Datastore, Queue…), by name. */
function kindOfService(context: InvestigationContext, name: string): string | undefined {
  const id = knownServices(context).get(name);
  if (!id) return undefined;
  const direct = context.targets[id] ?? context.services[id];
  // Databases, caches and brokers run as StatefulSets even where the graph files them as services.
  if (direct?.workload?.kind === 'StatefulSet') return 'Datastore';
  if (direct && direct.kind !== 'Workload') return direct.kind;
  const owner = [...Object.values(context.targets), ...Object.values(context.services)].find(
    (target) => target.service === name && target.kind !== 'Workload' && target.kind !== 'Pod',
  );
  if (owner?.workload?.kind === 'StatefulSet') return 'Datastore';
  return owner?.kind ?? direct?.kind;
}

/** Whether the suspect is a datastore: a database, cache or broker (a StatefulSet counts as one). */
function isDatastore(env: CheckEnv): boolean {
  const service = serviceOf(env.target);
  return (
    env.target.kind === 'Datastore' ||
    env.target.kind === 'Queue' ||
    env.target.workload?.kind === 'StatefulSet' ||
    (service !== undefined && kindOfService(env.context, service) === 'Datastore')
  );
}

/** The datastore whose failure this hypothesis would explain (its parent), when it is one. */
function failingDatastore(env: CheckEnv): TargetInfo | undefined {
  const parent = env.parent;
  if (!parent || parent.hypothesis.category !== 'dependency_failure') return undefined;
  // Its own change is judged on its own evidence, not on its load.
  const same = (a: TargetInfo, b: TargetInfo): boolean =>
    a.id === b.id ||
    (a.workload !== undefined && a.workload.id === b.workload?.id) ||
    (a.service !== undefined && a.service === b.service);
  if (same(parent.target, env.target)) return undefined;
  return isDatastore({ ...env, target: parent.target }) ? parent.target : undefined;
}

/** The saturation series of a datastore, by what its name says it is: a cache's memory, a database's connections. */
function pressureQuery(env: CheckEnv): { template: string; what: string } | undefined {
  const name = `${serviceOf(env.target) ?? ''} ${env.target.workload?.name ?? ''} ${env.target.name}`;
  if (/redis|memcache|valkey|cache/i.test(name)) return { template: env.queries.cacheMemory, what: 'memory' };
  if (/postgres|pg|mysql|maria|-db\b|database/i.test(name))
    return { template: env.queries.dbConnections, what: 'connections' };
  return undefined;
}

/** Known service names other than `self` that `text` names as whole words. */
export function namedServices(context: InvestigationContext, text: string, self?: string): string[] {
  return [...knownServices(context).keys()].filter(
    (name) =>
      name !== self && new RegExp(`(^|[^a-z0-9-])${escapeRegExp(name)}([^a-z0-9-]|$)`, 'i').test(text),
  );
}

const LOG_PATTERNS: Partial<Record<HypothesisCategory, { pattern: RegExp; weight: number; what: string }>> = {
  memory_leak: {
    pattern: /heap|out of memory|oom|gc pause|memory limit/i,
    weight: 0.4,
    what: 'memory pressure',
  },
  resource_saturation: {
    pattern: /overload|queue full|too many requests|throttl|capacity|maxmemory|evicting keys/i,
    weight: 0.7,
    what: 'overload',
  },
  network_dns: {
    pattern:
      /no such host|nxdomain|getaddrinfo|eai_again|dns|name resolution|lookup .* (timeout|failed)|lookup \S+ on \S+:53/i,
    weight: 0.6,
    what: 'name resolution failures',
  },
  certificate: { pattern: /x509|certificate|tls handshake/i, weight: 0.7, what: 'certificate errors' },
  config_change: {
    pattern: /config|invalid value|missing (key|env)/i,
    weight: 0.4,
    what: 'configuration errors',
  },
  external: {
    pattern: /https?:\/\/[a-z0-9.-]+\.[a-z]{2,}|external|provider/i,
    weight: 0.3,
    what: 'failing calls to an outside provider',
  },
};

/**
 * Log patterns that name a specific cause an SRE would chase before blaming a service as a
 * whole: expired certificates, failing name resolution, a cache out of memory. `blames` says
 * whom the line blames: the service it names (the callee), or the one that logged it.
 */
export const SPECIFIC_CAUSES: ReadonlyArray<{
  category: HypothesisCategory;
  pattern: RegExp;
  what: string;
  blames: 'named' | 'owner';
  statement: (name: string) => string;
}> = [
  {
    category: 'certificate',
    pattern:
      /x509|certificate has expired|certificate is not yet valid|certificate verify failed|tls: bad certificate|expired certificate/i,
    what: 'certificate errors',
    blames: 'named',
    statement: (name) => `The TLS certificate of ${name} has expired or is invalid, so calls to it fail`,
  },
  {
    category: 'network_dns',
    pattern: /eai_again|nxdomain|no such host|getaddrinfo|lookup \S+ on \S+:53/i,
    what: 'name resolution failures',
    blames: 'owner',
    statement: (name) => `${name} cannot resolve the names of what it calls`,
  },
  {
    category: 'resource_saturation',
    pattern: /maxmemory|evicting keys|evicted keys/i,
    what: 'a cache out of memory',
    blames: 'named',
    statement: (name) => `${name} is out of memory: near its limit and evicting keys`,
  },
  {
    category: 'resource_saturation',
    pattern: /overload|queue full|too many requests|throttl/i,
    what: 'overload',
    blames: 'owner',
    statement: (name) => `${name} is overloaded: more load than its replicas can carry`,
  },
  {
    category: 'memory_leak',
    pattern: /out of memory|outofmemoryerror|oomkilled/i,
    what: 'memory exhaustion',
    blames: 'owner',
    statement: (name) => `${name} runs out of memory`,
  },
];

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function tagOf(image: string): string | undefined {
  const index = image.lastIndexOf(':');
  return index > 0 ? image.slice(index + 1) : undefined;
}

function logsCall(
  env: CheckEnv,
  service: string | undefined,
): { tool: string; input: Record<string, unknown> } | undefined {
  if (!service) return undefined;
  if (env.tools.get('datadog_logs'))
    return {
      tool: 'datadog_logs',
      input: {
        query: fill(env.queries.errorLogs, { service }),
        fromMinutesAgo: minutesBack(env),
        limit: 300,
      },
    };
  const pods = knownPods(env, service);
  if (!pods || !env.tools.get('k8s_pod_logs')) return undefined;
  const pod = [...pods].sort((a, b) => b.restarts - a.restarts || Number(a.ready) - Number(b.ready))[0];
  if (!pod) return undefined;
  return {
    tool: 'k8s_pod_logs',
    input: {
      pod: pod.name,
      ...(env.target.namespace ? { namespace: env.target.namespace } : {}),
      previous: pod.restarts > 0,
      tailLines: 300,
    },
  };
}

function knownPods(env: CheckEnv, service: string): PodSummary[] | undefined {
  return (env.memo.get(`pods:${service}`) ?? env.shared?.get(`pods:${service}`)) as PodSummary[] | undefined;
}

function podsCall(
  env: CheckEnv,
  service: string | undefined,
): { tool: string; input: Record<string, unknown> } | undefined {
  if (!service || env.tools.get('datadog_logs') || !env.tools.get('k8s_list')) return undefined;
  // Another hypothesis already listed them: its listing picks the pod just as well.
  if (knownPods(env, service)) return undefined;
  const namespace = env.target.namespace ?? env.symptoms.find((symptom) => symptom.namespace)?.namespace;
  return {
    tool: 'k8s_list',
    input: { kind: 'Pod', labelSelector: `app=${service}`, ...(namespace ? { namespace } : {}) },
  };
}

function rememberPods(env: CheckEnv, outcome: CheckOutcome, service: string | undefined): Judgement {
  if (service && outcome.result.status === 'ok') {
    const items = (outcome.result.data as { items: PodSummary[] }).items;
    env.memo.set(`pods:${service}`, items);
    env.shared?.set(`pods:${service}`, items);
  }
  return neutral('pods listed to pick one for its logs');
}

/**
 * A leak the memory forecast warned of: it warns before the limit, so no OOMKill and no memory
 * lines in the logs yet are what such a leak looks like, not evidence against it.
 */
function leakWarnedEarly(env: CheckEnv): boolean {
  return env.hypothesis.category === 'memory_leak' && env.context.findingHints.includes(MEMORY_NEAR_LIMIT);
}

function judgeErrorLogs(env: CheckEnv, outcome: CheckOutcome): Judgement {
  const logs = logText(outcome);
  if (!logs) return neutral('logs could not be read');
  const { category } = env.hypothesis;
  const warnedEarly = leakWarnedEarly(env);
  if (logs.errors === 0) {
    if (warnedEarly) return neutral('no error lines yet: the memory forecast warned before the limit');
    return category === 'unknown' ? neutral('no error logs') : refutes(0.2, 'no error lines in the window');
  }
  if (category === 'deploy_regression') {
    const top = topMessage(outcome);
    // Failed calls to another application service say the trouble is there. Failed calls to a
    // datastore or queue do not clear the release: a new version can exhaust a shared database's
    // connections or memory by itself.
    const blamed = (top ? namedServices(env.context, top, serviceOf(env.target)) : []).filter(
      (name) => kindOfService(env.context, name) === 'Service',
    );
    if (blamed.length) {
      env.memo.set('blamed', blamed);
      return refutes(
        0.8,
        `its errors are mostly failed calls to ${blamed.join(', ')}, not failures of its own code`,
      );
    }
    const change = env.context.recentChanges.find(
      (item) => isChangeOn(item, env.target) && typeof item.properties.image === 'string',
    );
    const image = change ? String(change.properties.image) : (env.memo.get('image') as string | undefined);
    const tag = image ? tagOf(image) : undefined;
    if (tag && new RegExp(`\\b${escapeRegExp(tag)}\\b`).test(logs.text))
      return supports(0.4, `error lines name the new version ${tag}`);
    return neutral('errors present, none names the new version');
  }
  if (category === 'flag_change') {
    const key = env.target.flagKey ?? env.target.name;
    if (logs.text.includes(key)) return supports(0.5, `error lines name the flag's code path ${key}`);
    return refutes(0.2, `no error line names ${key}`);
  }
  if (category === 'dependency_failure') {
    const specific = SPECIFIC_CAUSES.find((cause) => cause.pattern.test(logs.text));
    if (specific)
      return refutes(
        0.8,
        `its own errors show ${specific.what}, a more specific cause than a failing service`,
      );
    const top = topMessage(outcome) ?? '';
    const blamed = namedServices(env.context, top, serviceOf(env.target));
    if (blamed.length)
      return refutes(
        0.4,
        `its own errors are failed calls to ${blamed.join(', ')}: the cause is further down`,
      );
    if (
      env.target.kind === 'Datastore' ||
      env.target.kind === 'Queue' ||
      env.target.workload?.kind === 'StatefulSet'
    )
      return neutral('a datastore logs errors: its clients may be what exhausts it');
    if (OUTBOUND_FAILURE.test(top))
      return neutral('its errors are failed calls to something the graph does not name');
    if (CODE_ERROR.test(top))
      return neutral('its own code throws: a change to it, not a stuck process, is the likelier cause');
    if (STUCK_PROCESS.test(top))
      return supports(0.7, 'its own errors show an exhausted or stuck process that blames nothing it calls');
    return supports(0.4, 'it logs errors of its own that blame nothing it calls');
  }
  const rule = LOG_PATTERNS[category];
  if (!rule) return neutral('no log rule for this category');
  if (rule.pattern.test(logs.text)) return supports(rule.weight, `error lines show ${rule.what}`);
  if (warnedEarly)
    return neutral(`error lines show no ${rule.what} yet: the memory forecast warned before the limit`);
  return refutes(
    category === 'certificate' || category === 'network_dns' ? 0.4 : 0.2,
    `error lines show no ${rule.what}`,
  );
}

function judgeCallerLogs(env: CheckEnv, outcome: CheckOutcome): Judgement {
  const logs = logText(outcome);
  if (!logs) return neutral('caller logs could not be read');
  if (logs.errors === 0) return refutes(0.3, 'callers log no errors');
  const name = serviceOf(env.target) ?? env.target.name;
  const named = (text: string): boolean =>
    new RegExp(`(^|[^a-z0-9-])${escapeRegExp(name)}([^a-z0-9-]|$)`, 'i').test(text);
  const top = topMessage(outcome);
  if (top && named(top)) return supports(0.9, `the callers' most common error names ${name}`);
  if (named(logs.text)) return supports(0.6, `caller errors name ${name}`);
  return refutes(0.4, `caller errors do not name ${name}`);
}

function rise(series: SeriesDigest | undefined, factor: number): 'rose' | 'flat' | undefined {
  if (!series || series.before === undefined || series.after === undefined) return undefined;
  const floor = Math.max(Math.abs(series.before), 1e-6);
  return series.after >= floor * factor && series.after - series.before > 1e-3 ? 'rose' : 'flat';
}

/** The services that call the suspect directly, from the graph (the symptoms' own dependencies). */
function directCallers(env: CheckEnv): string[] {
  const self = serviceOf(env.target);
  if (env.caller && env.caller !== self) return [env.caller];
  const item = env.context.blastRadius.upstream.find(
    (brief) =>
      brief.id === env.target.id ||
      (self !== undefined && brief.name === self && brief.kind !== 'Pod') ||
      (env.target.workload !== undefined && brief.id === env.target.workload.id),
  );
  const names = (item?.via ?? []).flatMap((id) => {
    const caller = env.context.targets[id];
    const name = caller?.service ?? caller?.name;
    return name && name !== self ? [name] : [];
  });
  return [...new Set(names)];
}

/** Categories that read a symptom's logs as the caller when the graph names no direct caller. */
const SYMPTOM_AS_CALLER = new Set<HypothesisCategory>([
  'dependency_failure',
  'network_dns',
  'certificate',
  'external',
]);

function symptomService(env: CheckEnv): string | undefined {
  const callers = directCallers(env);
  if (callers.length) return callers[0];
  if (!SYMPTOM_AS_CALLER.has(env.hypothesis.category)) return undefined;
  for (const symptom of env.symptoms) {
    const service = serviceOf(symptom);
    if (service && service !== serviceOf(env.target)) return service;
  }
  return undefined;
}

/** For a deploy: the dependencies its own errors blame (read by `error_logs`), when they do. */
function blamedDependencies(env: CheckEnv): string[] | undefined {
  if (env.hypothesis.category !== 'deploy_regression') return undefined;
  const blamed = env.memo.get('blamed') as string[] | undefined;
  return blamed?.length ? blamed : undefined;
}

/** Whose log a logs check read: the suspect's own, or its caller's. */
export function logOwner(env: CheckEnv, check: string): string | undefined {
  if (check === 'error_logs') return serviceOf(env.target);
  if (check === 'caller_logs') return symptomService(env);
  return undefined;
}

/** The catalog, by check name. */
export const CHECKS: Record<string, CheckDefinition> = {
  deploy_in_window: {
    name: 'deploy_in_window',
    build: (env) =>
      env.tools.get('graph_recent_changes')
        ? {
            tool: 'graph_recent_changes',
            input: {
              ids: [env.target.workload?.id ?? env.target.id],
              windowMinutes: minutesBack(env) + 120,
              maxDepth: 0,
              kinds: ['deploy', 'rollback'],
            },
          }
        : undefined,
    assess(env, outcome) {
      if (outcome.result.status === 'error') return neutral('changes could not be read');
      const changes = (
        (outcome.result.data as { changes?: ChangeSummary[] } | undefined)?.changes ?? []
      ).filter((change) => change.kind === 'deploy' && change.at <= env.context.openedAt + 2 * MINUTE);
      const latest = changes.sort((a, b) => b.at - a.at)[0];
      if (!latest) return refutes(0.7, 'no deploy of the suspect before the incident');
      if (typeof latest.properties.image === 'string') env.memo.set('image', latest.properties.image);
      const lead = (env.context.openedAt - latest.at) / MINUTE;
      const changed = deployChanged(latest.properties);
      if (changed.includes('config') && !changed.includes('image'))
        return refutes(
          0.5,
          `the rollout ${Math.max(0, Math.round(lead))} min before changed the configuration, not the code`,
        );
      return supports(
        lead <= 30 ? 0.25 : 0.1,
        `deployed ${Math.max(0, Math.round(lead))} min before the incident opened`,
      );
    },
  },
  rollout_history: {
    name: 'rollout_history',
    build: (env) =>
      env.target.workload && env.target.workload.kind === 'Deployment' && env.tools.get('k8s_rollout_history')
        ? {
            tool: 'k8s_rollout_history',
            input: {
              deployment: env.target.workload.name,
              ...(env.target.workload.namespace ? { namespace: env.target.workload.namespace } : {}),
            },
          }
        : undefined,
    assess(env, outcome) {
      if (outcome.result.status !== 'ok') return neutral('no rollout history');
      const history = outcome.result.data as RolloutHistory;
      const newest = history.revisions[0];
      if (!newest || history.revisions.length < 2)
        return refutes(0.4, 'only one revision: nothing was rolled out');
      const lead =
        newest.createdAt === undefined ? undefined : (env.context.openedAt - newest.createdAt) / MINUTE;
      if (lead !== undefined && lead >= -2 && lead <= 120)
        return supports(
          0.15,
          `revision ${newest.revision} (${newest.image ?? '?'}) rolled out ${Math.max(0, Math.round(lead))} min before`,
        );
      return refutes(0.3, `the newest revision ${newest.revision} is older than the window`);
    },
  },
  datastore_pressure: {
    name: 'datastore_pressure',
    build: (env) => {
      const query = isDatastore(env) ? pressureQuery(env) : undefined;
      return query ? metricCall(env, query.template, true) : undefined;
    },
    assess(env, outcome) {
      const series = firstSeries(outcome);
      const what = pressureQuery(env)?.what ?? 'saturation';
      if (!series) return neutral(`no ${what} series`);
      const growth = (series.slopePerMinute * 10) / Math.max(series.mean, 1e-9);
      if (rise(series, 1.25) === 'rose' || growth > 0.1)
        return supports(
          0.7,
          `its ${what} climbed (${series.before ?? series.first} → ${series.after ?? series.last}, max ${series.max})`,
        );
      return refutes(
        0.4,
        `its ${what} is steady (${series.before ?? series.first} → ${series.after ?? series.last})`,
      );
    },
  },
  parent_pressure: {
    name: 'parent_pressure',
    build: (env) => {
      const datastore = failingDatastore(env);
      const query = datastore ? pressureQuery({ ...env, target: datastore }) : undefined;
      return datastore && query ? metricCall({ ...env, target: datastore }, query.template, true) : undefined;
    },
    assess(env, outcome) {
      const datastore = failingDatastore(env);
      const name = datastore?.service ?? datastore?.name ?? 'the datastore';
      const series = firstSeries(outcome);
      const what = datastore ? (pressureQuery({ ...env, target: datastore })?.what ?? 'load') : 'load';
      if (!series) return neutral(`no ${what} series of ${name}`);
      return rise(series, 1.25) === 'rose'
        ? supports(0.8, `${name}'s ${what} climbed after this release (${series.before} → ${series.after})`)
        : refutes(
            0.5,
            `${name}'s ${what} did not move after this release (${series.before} → ${series.after})`,
          );
    },
  },
  errors_after_pivot: {
    name: 'errors_after_pivot',
    build: (env) => metricCall(env, env.queries.errors, true),
    assess(env, outcome) {
      const verdict = rise(firstSeries(outcome), 2);
      if (!verdict) return neutral('no error series around the change');
      const series = firstSeries(outcome) as SeriesDigest;
      // A cache or database that is full or out of connections refuses its clients; its own
      // error series may stay flat while theirs climbs.
      // A client that holds a datastore's connections need not fail itself: the others do.
      if (verdict === 'flat' && failingDatastore(env))
        return refutes(
          0.2,
          `its own errors did not rise (${series.before} → ${series.after}); the datastore's other clients fail`,
        );
      if (verdict === 'flat' && env.hypothesis.category === 'dependency_failure' && isDatastore(env))
        return refutes(
          0.3,
          `its own errors did not rise (${series.before} → ${series.after}); a datastore's clients see its failures`,
        );
      const blamed = blamedDependencies(env);
      if (verdict === 'rose' && blamed)
        return neutral(
          `errors rose from ${series.before} to ${series.after}, but they are failed calls to ${blamed.join(', ')}`,
        );
      if (
        verdict === 'flat' &&
        ROLLOUT_CATEGORIES.has(env.hypothesis.category) &&
        env.context.findingHints.some((hint) => STALLED_ROLLOUT.test(hint))
      )
        return refutes(
          0.3,
          `errors did not rise (${series.before} → ${series.after}), but new pods cannot start while the old ones still serve`,
        );
      return verdict === 'rose'
        ? supports(
            0.7,
            `errors rose from ${series.before} to ${series.after} after ${new Date(pivotOf(env)).toISOString()}`,
          )
        : refutes(
            0.9,
            `errors did not rise after ${new Date(pivotOf(env)).toISOString()} (${series.before} → ${series.after})`,
          );
    },
  },
  latency_after_pivot: {
    name: 'latency_after_pivot',
    build: (env) => metricCall(env, env.queries.latency, true),
    assess(env, outcome) {
      const series = firstSeries(outcome);
      const verdict = rise(series, 1.5);
      if (!verdict || !series) return neutral('no latency series');
      const blamed = blamedDependencies(env);
      if (verdict === 'rose' && blamed) return neutral(`p99 latency rose, waiting on ${blamed.join(', ')}`);
      return verdict === 'rose'
        ? supports(0.4, `p99 latency rose from ${series.before} to ${series.after}`)
        : refutes(0.3, `p99 latency steady (${series.before} → ${series.after})`);
    },
  },
  memory_trend: {
    name: 'memory_trend',
    build: (env) => metricCall(env, env.queries.memory, false),
    assess(_env, outcome) {
      const series = firstSeries(outcome);
      if (!series || series.mean <= 0) return neutral('no memory series');
      const growth = (series.slopePerMinute * 10) / series.mean;
      const swing = series.max / Math.max(series.min, 1e-9);
      if (growth > 0.1 || swing > 1.6)
        return supports(
          0.7,
          `memory climbs (${series.slopePerMinute}/min, min ${series.min}, max ${series.max})`,
        );
      // A climb that began minutes ago is lost in the slope of a window that is mostly flat before
      // it (a forecast warns that early): memory that ends at its highest, well above its lowest.
      if (series.last >= series.max * 0.97 && series.last >= series.min * 1.15)
        return supports(
          0.7,
          `memory climbs to its newest point (min ${series.min}, last ${series.last}, the highest)`,
        );
      return refutes(0.6, `memory is flat (min ${series.min}, max ${series.max})`);
    },
  },
  traffic_trend: {
    name: 'traffic_trend',
    build: (env) => metricCall(env, env.queries.rps, true),
    assess(env, outcome) {
      const series = firstSeries(outcome);
      if (!series) return neutral('no traffic series');
      const verdict = rise(series, 1.6);
      const peak = series.max / Math.max(series.first, 1e-9);
      if (verdict === 'rose' || peak >= 1.8)
        return supports(peak >= 2.5 ? 0.9 : 0.7, `traffic rose (first ${series.first}, max ${series.max})`);
      // A datastore fills up from what is written to it (a batch import), not only from requests.
      return refutes(
        isDatastore(env) ? 0.2 : 0.7,
        `traffic is steady (first ${series.first}, max ${series.max})`,
      );
    },
  },
  cpu_trend: {
    name: 'cpu_trend',
    build: (env) => metricCall(env, env.queries.cpu, true),
    assess(env, outcome) {
      const series = firstSeries(outcome);
      if (!series) return neutral('no CPU series');
      if (rise(series, 1.5) === 'rose')
        return supports(0.3, `CPU rose from ${series.before} to ${series.after}`);
      const steady = `CPU steady (${series.before ?? series.first} → ${series.after ?? series.last})`;
      // A datastore runs out of memory or connections long before CPU.
      return isDatastore(env)
        ? neutral(`${steady}; a datastore saturates on memory or connections`)
        : refutes(0.2, steady);
    },
  },
  analyzers: {
    name: 'analyzers',
    build: (env) => {
      const service = serviceOf(env.target) ?? symptomService(env);
      const namespace = env.target.namespace ?? env.symptoms.find((symptom) => symptom.namespace)?.namespace;
      if (!env.tools.get('k8s_analyze')) return undefined;
      return {
        tool: 'k8s_analyze',
        input: {
          ...(namespace ? { namespace } : {}),
          ...(service ? { labelSelector: `app=${service}` } : {}),
        },
      };
    },
    assess(env, outcome) {
      if (outcome.result.status === 'error') return neutral('analyzers could not run');
      const findings =
        (
          outcome.result.data as
            { findings?: Array<{ kind: string; message: string; reason?: string }> } | undefined
        )?.findings ?? [];
      const text = findings
        .map((finding) => `${finding.kind} ${finding.reason ?? ''} ${finding.message}`)
        .join('\n');
      const has = (pattern: RegExp): boolean => pattern.test(text);
      switch (env.hypothesis.category) {
        case 'memory_leak':
          if (has(/OOMKilled/i)) return supports(0.6, 'containers were OOMKilled');
          return leakWarnedEarly(env)
            ? neutral('no OOMKilled containers yet: the memory forecast warned before the limit')
            : refutes(0.2, 'no OOMKilled containers');
        case 'image':
          return has(/ImagePull|ErrImagePull|InvalidImageName/i)
            ? supports(0.8, 'pods cannot pull their image')
            : refutes(0.7, 'no image pull failures');
        case 'scheduling':
          return has(/Pending|FailedScheduling|Unschedulable/i)
            ? supports(0.8, 'pods cannot be scheduled')
            : refutes(0.7, 'no pending pods');
        case 'config_change':
          return has(/CrashLoopBackOff|CreateContainerConfigError|missing/i)
            ? supports(0.4, 'new pods crash or miss configuration')
            : refutes(0.3, 'no crash loops or config errors');
        case 'node_issue':
          return has(/Pressure|NotReady|Evict/i)
            ? supports(0.5, 'node conditions or evictions')
            : refutes(0.3, 'no node findings');
        default:
          return findings.length
            ? neutral(`${findings.length} findings, none specific`)
            : neutral('no findings');
      }
    },
  },
  neighbor_cpu: {
    name: 'neighbor_cpu',
    build: (env) => metricCall(env, env.queries.cpu, false),
    assess(env, outcome) {
      const series = firstSeries(outcome);
      if (!series) return neutral('no CPU series for it');
      // A newcomer has no before; what it takes now, against what the symptoms' own pods take.
      if (series.mean >= 1 || series.max >= 2)
        return supports(0.6, `it uses ${series.mean} CPU cores on average (max ${series.max})`);
      // Too little to starve anything through the CPU; what it does to a shared datastore is
      // judged on the datastore.
      return series.max < 1
        ? refutes(
            0.3,
            `it uses ${series.mean} CPU cores on average (max ${series.max}): too little to starve its neighbours`,
          )
        : neutral(`it uses ${series.mean} CPU cores on average: not much by itself`);
    },
  },
  victim_latency: {
    name: 'victim_latency',
    build: (env) => {
      const victim = env.symptoms.map(serviceOf).find((name) => name && name !== serviceOf(env.target));
      if (!victim) return undefined;
      const namespace = env.target.namespace;
      return metricCall(
        { ...env, target: { ...env.target, service: victim, ...(namespace ? { namespace } : {}) } },
        env.queries.latency,
        true,
      );
    },
    assess(_env, outcome) {
      const series = firstSeries(outcome);
      const verdict = rise(series, 1.5);
      if (!verdict || !series) return neutral('no latency series of the symptoms');
      return verdict === 'rose'
        ? supports(
            0.5,
            `the symptoms' p99 latency rose from ${series.before} to ${series.after} after it started`,
          )
        : refutes(
            0.5,
            `the symptoms' latency did not move after it started (${series.before} → ${series.after})`,
          );
    },
  },
  node_conditions: {
    name: 'node_conditions',
    build: (env) =>
      env.target.kind === 'Node' && env.tools.get('k8s_get')
        ? { tool: 'k8s_get', input: { kind: 'Node', name: env.target.name } }
        : undefined,
    assess(_env, outcome) {
      if (outcome.result.status !== 'ok') return neutral('node could not be read');
      const conditions =
        (outcome.result.data as { conditions?: Array<{ type?: string; status?: string }> }).conditions ?? [];
      const bad = conditions.filter((condition) =>
        condition.type === 'Ready' ? condition.status !== 'True' : condition.status === 'True',
      );
      if (bad.length)
        return supports(
          // A pressure condition is the kubelet's own word that the node is evicting.
          bad.some((condition) => /Pressure/.test(condition.type ?? '')) ? 0.9 : 0.7,
          `node conditions: ${bad.map((condition) => `${condition.type}=${condition.status}`).join(', ')}`,
        );
      return refutes(0.7, 'the node is Ready with no pressure');
    },
  },
  node_events: {
    name: 'node_events',
    build: (env) =>
      env.target.kind === 'Node' && env.tools.get('k8s_events')
        ? {
            tool: 'k8s_events',
            input: { involvedKind: 'Node', involvedName: env.target.name, sinceMinutes: minutesBack(env) },
          }
        : undefined,
    assess(env, outcome) {
      if (outcome.result.status === 'error') return neutral('node events could not be read');
      const reasons = Object.keys((outcome.result.data as EventDigest | undefined)?.byReason ?? {});
      const eviction = reasons.filter((reason) => /Evict|Pressure|InsufficientMemory|NotReady/i.test(reason));
      if (env.hypothesis.category === 'noisy_neighbor')
        return reasons.length
          ? neutral(`node events: ${reasons.join(', ')}`)
          : refutes(0.2, 'no node events');
      if (eviction.length) return supports(0.4, `node events: ${eviction.join(', ')}`);
      return refutes(0.3, 'no eviction or pressure events on the node');
    },
  },
  flag_flip: {
    name: 'flag_flip',
    build: (env) =>
      env.tools.get('graph_recent_changes')
        ? {
            tool: 'graph_recent_changes',
            input: {
              ids: [env.target.id],
              windowMinutes: minutesBack(env) + 120,
              maxDepth: 0,
              kinds: ['flag-flip', 'config-change'],
            },
          }
        : undefined,
    assess(env, outcome) {
      if (outcome.result.status === 'error') return neutral('changes could not be read');
      const flips = (
        (outcome.result.data as { changes?: ChangeSummary[] } | undefined)?.changes ?? []
      ).filter((change) => change.at <= env.context.openedAt + 2 * MINUTE);
      const latest = flips.sort((a, b) => b.at - a.at)[0];
      if (!latest) return refutes(0.7, 'the flag did not change before the incident');
      return supports(
        0.4,
        `the flag changed ${Math.max(0, Math.round((env.context.openedAt - latest.at) / MINUTE))} min before the incident`,
      );
    },
  },
  config_changes: {
    name: 'config_changes',
    build: (env) =>
      env.tools.get('graph_recent_changes')
        ? {
            tool: 'graph_recent_changes',
            input: {
              ids: [env.target.workload?.id ?? env.target.id],
              windowMinutes: minutesBack(env) + 120,
              maxDepth: 1,
              kinds: ['config-change', 'deploy'],
            },
          }
        : undefined,
    assess(env, outcome) {
      if (outcome.result.status === 'error') return neutral('changes could not be read');
      const changes = (outcome.result.data as { changes?: ChangeSummary[] } | undefined)?.changes ?? [];
      const before = changes.filter(
        (change) =>
          change.at <= env.context.openedAt + 2 * MINUTE &&
          (change.kind === 'config-change' || deployChanged(change.properties).includes('config')),
      );
      const rolledOut = before.filter((change) => change.kind === 'deploy');
      if (rolledOut.length)
        return supports(
          0.5,
          `a rollout changed its configuration ${Math.max(0, Math.round((env.context.openedAt - Math.max(...rolledOut.map((change) => change.at))) / MINUTE))} min before the incident`,
        );
      return before.length
        ? supports(0.4, `${before.length} config change(s) before the incident`)
        : refutes(0.5, 'no config change before the incident');
    },
  },
  namespace_events: {
    name: 'namespace_events',
    build: (env) => {
      const namespace = env.target.namespace ?? env.symptoms.find((symptom) => symptom.namespace)?.namespace;
      if (!env.tools.get('k8s_events')) return undefined;
      return {
        tool: 'k8s_events',
        input: { ...(namespace ? { namespace } : {}), sinceMinutes: minutesBack(env) },
      };
    },
    assess(env, outcome) {
      if (outcome.result.status === 'error') return neutral('events could not be read');
      const digest = outcome.result.data as EventDigest | undefined;
      const name = env.target.workload?.name ?? serviceOf(env.target) ?? env.target.name;
      const mine = (digest?.recent ?? []).filter((event) => (event.object ?? '').includes(name));
      const reasons = new Set([
        ...mine.map((event) => event.reason ?? ''),
        ...Object.keys(digest?.byReason ?? {}),
      ]);
      const has = (pattern: RegExp): boolean =>
        [...reasons].some((reason) => pattern.test(reason)) ||
        mine.some((event) => pattern.test(event.message ?? ''));
      switch (env.hypothesis.category) {
        case 'scheduling':
          return has(/FailedScheduling|Insufficient|didn't match|untolerated/i)
            ? supports(0.6, 'the scheduler reports it cannot place pods')
            : refutes(0.5, 'no scheduling failures in the events');
        case 'image':
          return has(/ErrImagePull|ImagePullBackOff|Failed to pull|not found/i)
            ? supports(0.5, 'the kubelet reports image pull failures')
            : refutes(0.4, 'no image pull failures in the events');
        default:
          return neutral(`events: ${[...reasons].slice(0, 5).join(', ')}`);
      }
    },
  },
  own_errors: {
    name: 'own_errors',
    build: (env) => metricCall(env, env.queries.errors, true),
    assess(_env, outcome) {
      const series = firstSeries(outcome);
      const verdict = rise(series, 2);
      if (!verdict || !series) return neutral('no error series');
      return verdict === 'rose'
        ? supports(
            0.35,
            `its errors rose from ${series.before} to ${series.after}, as this cause would make them`,
          )
        : refutes(0.5, `its errors did not rise (${series.before} → ${series.after})`);
    },
  },
  pods: {
    name: 'pods',
    build: (env) => podsCall(env, serviceOf(env.target)),
    assess: (env, outcome) => rememberPods(env, outcome, serviceOf(env.target)),
  },
  error_logs: {
    name: 'error_logs',
    build: (env) => logsCall(env, serviceOf(env.target)),
    assess: judgeErrorLogs,
  },
  caller_pods: {
    name: 'caller_pods',
    build: (env) => podsCall(env, symptomService(env)),
    assess: (env, outcome) => rememberPods(env, outcome, symptomService(env)),
  },
  caller_logs: {
    name: 'caller_logs',
    build: (env) => logsCall(env, symptomService(env)),
    assess: judgeCallerLogs,
  },
};

/** Check names to run per category, in order (cheap and decisive first). */
export const CATALOG: Readonly<Record<HypothesisCategory, readonly string[]>> = {
  deploy_regression: [
    'parent_pressure',
    'deploy_in_window',
    'pods',
    'error_logs',
    'caller_pods',
    'caller_logs',
    'errors_after_pivot',
    'rollout_history',
    'latency_after_pivot',
  ],
  config_change: ['config_changes', 'analyzers', 'pods', 'error_logs', 'errors_after_pivot'],
  resource_saturation: [
    'datastore_pressure',
    'traffic_trend',
    'cpu_trend',
    'pods',
    'error_logs',
    'caller_pods',
    'caller_logs',
  ],
  memory_leak: ['memory_trend', 'analyzers', 'pods', 'error_logs'],
  dependency_failure: [
    'datastore_pressure',
    'errors_after_pivot',
    'pods',
    'error_logs',
    'caller_pods',
    'caller_logs',
    'latency_after_pivot',
  ],
  node_issue: ['node_conditions', 'node_events'],
  network_dns: ['pods', 'error_logs', 'own_errors', 'caller_pods', 'caller_logs'],
  scheduling: ['analyzers', 'namespace_events'],
  image: ['analyzers', 'namespace_events', 'rollout_history'],
  flag_change: ['flag_flip', 'errors_after_pivot', 'pods', 'error_logs'],
  noisy_neighbor: ['neighbor_cpu', 'victim_latency', 'node_events'],
  certificate: ['pods', 'error_logs', 'caller_pods', 'caller_logs', 'own_errors'],
  external: ['caller_pods', 'caller_logs', 'pods', 'error_logs', 'own_errors'],
  unknown: [],
};
