import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { analyze, type Finding } from '../../detect/analyzers/index.js';
import type { ClusterSnapshot } from '../../detect/analyzers/snapshot.js';
import { k8sId, serviceId } from '../../graph/ids.js';
import { redact } from '../../ingest/redact/redact.js';
import { clip, signalId, type EntityRef, type Signal } from '../../ingest/signal.js';
import type { SignalSink } from '../../ingest/sink.js';
import { acceptFencedWrite } from '../../loop/leader.js';
import type { Clock } from '../../shared/clock.js';
import { describeError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';

const WORKLOADS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob']);

/**
 * The fencing resource (`acceptFencedWrite`) of the watchers leader's work: the findings it sends
 * and its graph writes. A detector claims it with its term's token as soon as it is created, so
 * an earlier leader still running is refused from then on.
 */
export const KUBERNETES_FENCE = 'kubernetes';

/**
 * The Redis hash of a cluster's findings that may be firing: fingerprint → `Remembered` (JSON).
 * It outlives the leader, so the next one can resolve what the last one raised.
 */
export function findingsKey(prefix: string, cluster: string): string {
  return `${prefix}:k8s-findings:${cluster}`;
}

/** What a resolved signal is built from: a finding without its evidence. */
type Summary = Omit<Finding, 'evidence'>;

/**
 * A finding in the hash. `sent: false` is written before its firing signal goes to the sink, and
 * `sent: true` once the sink took it; the entry is deleted once its resolved signal was taken.
 * `episode` (when it started firing) keeps the signal ids of one episode the same.
 */
const rememberedSchema = z.object({
  v: z.literal(1),
  finding: z.object({
    analyzer: z.string(),
    kind: z.string(),
    severity: z.enum(['info', 'warning', 'critical']),
    object: z.object({ kind: z.string(), namespace: z.string().optional(), name: z.string() }),
    owner: z.object({ kind: z.string(), name: z.string() }).optional(),
    message: z.string(),
    reason: z.string().optional(),
    fingerprint: z.string(),
  }),
  episode: z.number(),
  sent: z.boolean(),
});
type Remembered = z.infer<typeof rememberedSchema>;

function entitiesOf(finding: Summary, cluster: string): EntityRef[] {
  const refs: EntityRef[] = [];
  const add = (kind: string, name: string): void => {
    const namespace = finding.object.namespace;
    if (kind === 'Node') refs.push({ kind: 'Node', id: k8sId(cluster, null, 'Node', name), name, cluster });
    else if (WORKLOADS.has(kind) && namespace) {
      refs.push({ kind: 'Workload', id: k8sId(cluster, namespace, kind, name), name, namespace, cluster });
      refs.push({ kind: 'Service', id: serviceId(name), name });
    } else if (kind === 'Pod' && namespace)
      refs.push({ kind: 'Pod', id: k8sId(cluster, namespace, 'Pod', name), name, namespace, cluster });
  };
  add(finding.object.kind, finding.object.name);
  if (finding.owner) add(finding.owner.kind, finding.owner.name);
  return refs;
}

function toSignal(
  finding: Summary,
  status: 'firing' | 'resolved',
  cluster: string,
  now: number,
  episode: number,
): Signal {
  const summary = clip(`${finding.kind}: ${finding.message}`, 1024, finding.kind);
  return {
    v: 1,
    id: signalId('kubernetes', finding.fingerprint, status, episode),
    source: 'kubernetes',
    kind: 'alert',
    status,
    fingerprint: finding.fingerprint,
    severity:
      finding.severity === 'critical' ? 'critical' : finding.severity === 'warning' ? 'warning' : 'info',
    entities: entitiesOf(finding, cluster).slice(0, 64),
    observedAt: now,
    receivedAt: now,
    summary,
    attributes: {
      analyzer: finding.analyzer,
      finding: finding.kind,
      ...(finding.reason ? { reason: finding.reason } : {}),
      labels: { alertname: finding.kind, ...(finding.owner ? { workload: finding.owner.name } : {}) },
    },
    raw: {
      source: 'kubernetes/analyzers',
      digest: `sha256:${createHash('sha256').update(finding.fingerprint).digest('hex')}`,
    },
  };
}

/** The stored form of a finding: redacted, without evidence (a resolved signal does not need it). */
function remember(finding: Finding, episode: number, sent: boolean): Remembered {
  const { evidence: _evidence, ...summary } = finding;
  return { v: 1, finding: redact(summary).value, episode, sent };
}

/** A hash entry, or undefined when it is not one this version wrote. */
function parseRemembered(raw: string): Remembered | undefined {
  try {
    const parsed = rememberedSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** What `createKubernetesDetector` needs. */
export interface KubernetesDetectorOptions {
  sink: SignalSink;
  cluster: string;
  clock: Clock;
  logger: Logger;
  /** Where the firing findings are kept (`findingsKey`) and the fence is checked. */
  redis: Redis;
  /** The daemon's key prefix (`redis.prefix`). */
  prefix: string;
  /** The fencing token of the leader term this detector works for (`onElected`). */
  token: number;
}

/** A running detector. */
export interface KubernetesDetector {
  /** Hands over the watchers' latest snapshot; one arriving while another is handled replaces it. */
  onSnapshot(snapshot: ClusterSnapshot): void;
  /** How many findings are known to be firing at the sink. */
  active(): number;
  /** Resolves once every snapshot handed over so far was handled (tests, shutdown). */
  idle(): Promise<void>;
}

/**
 * Runs the Kubernetes analyzers over each snapshot the watchers publish and turns findings into
 * alert signals: a new finding fires, a finding that is gone resolves. Only warning and critical
 * findings become signals; info findings stay in the analyzers' output. Signals pass the same
 * redaction and sink as webhooks.
 *
 * Failover: the firing findings are kept in Redis (`findingsKey`), so a new leader's detector
 * resolves those the last leader raised. It reads them before its first snapshot (the watchers
 * publish none before every resource was listed); a remembered finding still present is not sent
 * again, one that is gone is resolved. Per batch: a new finding is written to the hash (`sent:
 * false`) before its firing goes to the sink, and marked sent, or deleted when resolved, only
 * after the sink took the batch. A crash in between repeats a signal (same id, so the sink or the
 * loop drops it) and never loses one: a finding not marked sent fires again while it is present.
 *
 * Fencing: each batch first calls `acceptFencedWrite` with the term's token (one Redis call).
 * Once a newer leader has claimed the fence, this detector sends nothing more, for good; its
 * leader will find its lease gone at the next renewal. When Redis or the sink fails, nothing is
 * marked and the batch is worked out again from the next snapshot; nothing throws.
 */
export function createKubernetesDetector(options: KubernetesDetectorOptions): KubernetesDetector {
  const { redis, cluster } = options;
  const logger = options.logger.child({ component: 'kubernetes-detector', cluster });
  const key = findingsKey(options.prefix, cluster);
  /** Mirrors the hash as last written or read; undefined until read. */
  let remembered: Map<string, Remembered> | undefined;
  let claimed = false;
  let fenced = false;

  /** True while this term may still send; false for good once a newer token has been seen. */
  const stillCurrent = async (): Promise<boolean> => {
    if (fenced) return false;
    if (await acceptFencedWrite(redis, options.prefix, KUBERNETES_FENCE, options.token)) return true;
    fenced = true;
    logger.warn(
      { token: options.token },
      'a newer leader holds the Kubernetes fence; sending no more findings',
    );
    return false;
  };

  const load = async (): Promise<Map<string, Remembered>> => {
    const entries = await redis.hgetall(key);
    const loaded = new Map<string, Remembered>();
    for (const [fingerprint, raw] of Object.entries(entries)) {
      const entry = parseRemembered(raw);
      if (entry?.finding.fingerprint === fingerprint) loaded.set(fingerprint, entry);
      else logger.warn({ fingerprint }, 'ignoring an unreadable remembered Kubernetes finding');
    }
    if (loaded.size > 0) logger.info({ findings: loaded.size }, 'remembered Kubernetes findings loaded');
    return loaded;
  };

  /** Sends one batch of firing and resolved findings, in the order the doc comment gives. */
  const send = async (state: Map<string, Remembered>, firing: Remembered[], resolved: Remembered[]) => {
    if (!(await stillCurrent())) return;
    const fresh = firing.filter((entry) => !state.has(entry.finding.fingerprint));
    if (fresh.length > 0) {
      await redis.hset(
        key,
        Object.fromEntries(fresh.map((entry) => [entry.finding.fingerprint, JSON.stringify(entry)])),
      );
      for (const entry of fresh) state.set(entry.finding.fingerprint, entry);
    }
    const now = options.clock.now();
    const signals = [
      ...firing.map((entry) => toSignal(entry.finding, 'firing', cluster, now, entry.episode)),
      ...resolved.map((entry) => toSignal(entry.finding, 'resolved', cluster, now, entry.episode)),
    ];
    await options.sink.accept(redact<Signal[]>(signals).value, { channel: 'kubernetes/analyzers' });
    const sent = firing.map((entry) => ({ ...entry, sent: true }));
    const write = redis.multi();
    if (sent.length > 0)
      write.hset(
        key,
        Object.fromEntries(sent.map((entry) => [entry.finding.fingerprint, JSON.stringify(entry)])),
      );
    if (resolved.length > 0) write.hdel(key, ...resolved.map((entry) => entry.finding.fingerprint));
    const results = await write.exec();
    const failed = results?.find(([error]) => error)?.[0];
    if (!results || failed) throw failed ?? new Error('the findings transaction was discarded');
    for (const entry of sent) state.set(entry.finding.fingerprint, entry);
    for (const entry of resolved) state.delete(entry.finding.fingerprint);
  };

  const handle = async (snapshot: ClusterSnapshot): Promise<void> => {
    if (fenced) return;
    if (!claimed && !(await stillCurrent())) return;
    claimed = true;
    remembered ??= await load();
    const state = remembered;
    const now = options.clock.now();
    const findings = analyze(snapshot, now).filter((finding) => finding.severity !== 'info');
    const current = new Map(findings.map((finding) => [finding.fingerprint, finding]));
    const firing: Remembered[] = [];
    for (const [fingerprint, finding] of current) {
      const known = state.get(fingerprint);
      if (!known?.sent) firing.push(remember(finding, known?.episode ?? now, false));
    }
    const resolved = [...state.values()].filter((entry) => !current.has(entry.finding.fingerprint));
    if (firing.length > 0 || resolved.length > 0) await send(state, firing, resolved);
  };

  let queued: ClusterSnapshot | undefined;
  let draining: Promise<void> | undefined;
  const drain = async (): Promise<void> => {
    for (let next = queued; next; next = queued) {
      queued = undefined;
      try {
        await handle(next);
      } catch (error) {
        logger.warn(
          { err: describeError(error) },
          'could not send Kubernetes findings; retrying on the next snapshot',
        );
      }
    }
    draining = undefined;
  };
  // Claim the fence at once: an earlier leader still running is refused from now on.
  draining = stillCurrent()
    .then(
      () => void (claimed = true),
      (error: unknown) =>
        logger.warn({ err: describeError(error) }, 'could not claim the Kubernetes fence; trying again'),
    )
    .then(drain);

  return {
    onSnapshot(snapshot) {
      if (fenced) return;
      queued = snapshot;
      draining ??= drain();
    },
    active: () => [...(remembered?.values() ?? [])].filter((entry) => entry.sent).length,
    idle: async () => {
      while (draining) await draining;
    },
  };
}
