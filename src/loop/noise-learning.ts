import type { Redis } from 'ioredis';
import type { Signal } from '../ingest/signal.js';
import { stableHash } from '../shared/ids.js';
import { luaScript } from '../shared/lua-script.js';
import type { NoiseFilter, Silence } from './noise.js';
import type { Incident } from './pipeline-types.js';

/** When an alert that keeps clearing on its own is learned as noise; every field has a default. */
export interface NoiseLearningOptions {
  /** Incidents of one alert that resolved on their own within `withinMs` that make it noise; 0 learns nothing. Default 3. */
  after?: number;
  /** The window those incidents are counted over. Default 24 hours. */
  withinMs?: number;
  /** An incident open longer than this is not counted: an outage that healed is not noise. Default 15 minutes. */
  maxDurationMs?: number;
  /** How long the learned pattern suppresses the alert; then it must earn it again. Default 7 days. */
  forMs?: number;
}

const DEFAULTS = {
  after: 3,
  withinMs: 24 * 3_600_000,
  maxDurationMs: 15 * 60_000,
  forMs: 7 * 24 * 3_600_000,
} as const;

/** Severities an alert may have to be learned as noise: never an error or a critical one. */
const LEARNABLE_SEVERITIES: ReadonlySet<string> = new Set(['warning', 'info']);

/**
 * States that mean an action ran (it may be what cleared the alert) or somebody was paged (they
 * may have fixed it by hand): such an incident did not end on its own. An approval asked for and
 * never given is not among them: nothing was done.
 */
const ATTENDED: ReadonlySet<string> = new Set(['acting', 'verifying', 'escalated']);

/**
 * When `incident` ended on its own, or undefined when it does not count as noise. It counts when
 * it is resolved, a warning or info, was resolved by its signals clearing (not by verify or a
 * person), never acted or escalated, and lasted at most `maxDurationMs`.
 */
export function selfResolvedAt(incident: Incident, maxDurationMs: number): number | undefined {
  if (incident.state !== 'resolved' || !LEARNABLE_SEVERITIES.has(incident.severity)) return undefined;
  if (incident.transitions.some((step) => ATTENDED.has(step.to))) return undefined;
  const resolved = incident.transitions.findLast((step) => step.to === 'resolved');
  if (!resolved || resolved.by.kind !== 'signal') return undefined;
  return resolved.at - incident.openedAt <= maxDurationMs ? resolved.at : undefined;
}

/**
 * Counts an incident (ARGV[2], at ARGV[1]) for one alert (KEYS[1], a sorted set) and returns how
 * many incidents of it ended on their own within the window (ARGV[3] ms) up to then. Adding the
 * same incident again changes nothing, so a retried learn job counts once.
 */
const COUNT = luaScript(`local at, window = tonumber(ARGV[1]), tonumber(ARGV[3])
redis.call('ZADD', KEYS[1], at, ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (at - window))
redis.call('PEXPIRE', KEYS[1], window * 2)
return redis.call('ZCOUNT', KEYS[1], at - window, at)`);

/**
 * Whether an alert may be learned as noise: only one another alerting system sent in (a webhook:
 * Alertmanager, Datadog monitors, PagerDuty), which still routes it to its other receivers.
 * Alerts nightshift raises itself (its Kubernetes findings, SLO breaches, anomalies, forecasts)
 * are never learned: silencing them here would silence them everywhere.
 */
function learnable(signal: Signal): boolean {
  return signal.kind === 'alert' && signal.raw.source.startsWith('webhook/');
}

/**
 * Learns alerts as noise: an alert (by fingerprint, `learnable`) whose incidents resolved on their own
 * (`selfResolvedAt`) `after` times within `withinMs` gets a `learned` silence for `forMs`, which
 * the noise filter then applies like any silence (counted in the digest as `learned`, listed and
 * removable with the others). Shared by replicas through Redis: `<prefix>:loop:noise:self-resolved:*`.
 */
export class NoiseLearner {
  readonly #connection: Redis;
  readonly #key: string;
  readonly #noise: NoiseFilter;
  readonly #settings: Required<NoiseLearningOptions>;

  constructor(options: { connection: Redis; prefix: string; noise: NoiseFilter } & NoiseLearningOptions) {
    this.#connection = options.connection;
    this.#key = `${options.prefix}:loop:noise:self-resolved`;
    this.#noise = options.noise;
    this.#settings = {
      after: options.after ?? DEFAULTS.after,
      withinMs: options.withinMs ?? DEFAULTS.withinMs,
      maxDurationMs: options.maxDurationMs ?? DEFAULTS.maxDurationMs,
      forMs: options.forMs ?? DEFAULTS.forMs,
    };
  }

  /** Whether `incident` is one this learner would count (nothing is read or written). */
  counts(incident: Incident): boolean {
    return this.#settings.after > 0 && selfResolvedAt(incident, this.#settings.maxDurationMs) !== undefined;
  }

  /**
   * Counts a closed incident for each alert among its `signals` when it ended on its own, and
   * returns the silences learned from it (none most of the time). Safe to call again.
   */
  async learnFrom(incident: Incident, signals: readonly Signal[]): Promise<Silence[]> {
    const { after, withinMs, maxDurationMs, forMs } = this.#settings;
    const at = after > 0 ? selfResolvedAt(incident, maxDurationMs) : undefined;
    if (at === undefined) return [];
    const alerts = new Map<string, Signal>();
    for (const signal of signals) if (learnable(signal)) alerts.set(signal.fingerprint, signal);
    const learned: Silence[] = [];
    for (const [fingerprint, signal] of alerts) {
      const digest = stableHash(fingerprint).slice(0, 16);
      const count = Number(
        await COUNT.run(
          this.#connection,
          [`${this.#key}:${digest}`],
          [String(at), incident.key, String(withinMs)],
        ),
      );
      if (count < after) continue;
      learned.push(
        await this.#noise.learnNoise(
          digest,
          [{ name: 'fingerprint', value: fingerprint }],
          `resolved on its own ${count} times within ${withinMs} ms, most recently in ${incident.id}: ${signal.summary.slice(0, 200)}`,
          { startsAt: at, endsAt: at + forMs },
        ),
      );
    }
    return learned;
  }
}
