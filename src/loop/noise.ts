import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { Signal } from '../ingest/signal.js';
import { stableHash } from '../shared/ids.js';
import { luaScript } from '../shared/lua-script.js';
import type { NoiseLearningOptions } from './noise-learning.js';

/**
 * One condition on a signal, as in Alertmanager silences. `name` is a label (looked up in
 * `attributes.labels`, then `attributes`), or one of the signal's own fields: `source`, `kind`,
 * `severity`, `fingerprint`, `summary`, or `entity` (matches when any referenced entity's id or
 * name matches). `value` is compared exactly, or as an anchored regular expression when `isRegex`.
 */
export const matcherSchema = z.strictObject({
  name: z.string().min(1),
  value: z.string(),
  isRegex: z.boolean().optional(),
});
export type Matcher = z.infer<typeof matcherSchema>;

/**
 * A silence (someone said "not now"), a maintenance window (planned work), or a pattern learned
 * as noise (no end). Suppresses a signal when every matcher matches and `startsAt ≤ t < endsAt`.
 */
export const silenceSchema = z.strictObject({
  id: z.string().min(1).max(256),
  kind: z.enum(['silence', 'maintenance', 'learned']),
  matchers: z.array(matcherSchema).min(1),
  startsAt: z.number().int().default(0),
  /** Absent: never ends. */
  endsAt: z.number().int().optional(),
  createdBy: z.string().min(1).default('nightshift'),
  comment: z.string().default(''),
});
export type Silence = z.infer<typeof silenceSchema>;
export type SilenceInput = z.input<typeof silenceSchema>;

/** Why a signal was dropped. */
export type SuppressionReason = 'flapping' | 'silence' | 'maintenance' | 'learned';

/** The verdict on one signal. */
export type NoiseVerdict =
  { suppressed: false } | { suppressed: true; reason: SuppressionReason; detail: string };

/** Settings of the noise filter; every field has a default. */
export interface NoiseOptions {
  /** Window flapping is counted over. Default 15 minutes. */
  flapWindowMs?: number;
  /** More status changes than this within the window: the alert is flapping. Default 4. */
  flapThreshold?: number;
  /** Silences and maintenance windows from configuration, beside those added at run time. */
  silences?: readonly SilenceInput[];
  /** When an alert that keeps clearing on its own is learned as noise. */
  learn?: NoiseLearningOptions;
}

/** Suppressed signals by reason since the last digest, and in total. */
export interface SuppressionDigest {
  since: Record<SuppressionReason, number>;
  total: Record<SuppressionReason, number>;
  /** Fingerprint digests suppressed most since the last digest (up to 10), with counts. */
  top: Array<{ fingerprint: string; count: number }>;
}

/**
 * Records the status of alerts in order and returns, for each, the status changes within the
 * window. KEYS: per alert its change set, its last status and when that status was observed (a
 * key of its own, so a replica of an earlier version still reads the status key as before); ARGV:
 * the window and the keys' TTL, then per alert its time, status and signal id. A status observed
 * before the one recorded (a delivery handled late) changes nothing. One call judges a whole batch.
 */
const FLAP = luaScript(`local window = tonumber(ARGV[1])
local changes = {}
for i = 1, #KEYS / 3 do
  local set, lastKey, atKey = KEYS[3 * i - 2], KEYS[3 * i - 1], KEYS[3 * i]
  local now, status, id = tonumber(ARGV[3 * i]), ARGV[3 * i + 1], ARGV[3 * i + 2]
  local last = redis.call('GET', lastKey)
  local lastAt = tonumber(redis.call('GET', atKey))
  if lastAt == nil or now >= lastAt then
    redis.call('SET', lastKey, status, 'PX', ARGV[2])
    redis.call('SET', atKey, ARGV[3 * i], 'PX', ARGV[2])
    if last and last ~= status then redis.call('ZADD', set, now, id) end
  end
  redis.call('ZREMRANGEBYSCORE', set, '-inf', now - window)
  redis.call('PEXPIRE', set, ARGV[2])
  changes[i] = redis.call('ZCARD', set)
end
return changes`);

const REASONS: readonly SuppressionReason[] = ['flapping', 'silence', 'maintenance', 'learned'];

function label(signal: Signal, name: string): string[] {
  switch (name) {
    case 'source':
      return [signal.source];
    case 'kind':
      return [signal.kind];
    case 'severity':
      return [signal.severity];
    case 'fingerprint':
      return [signal.fingerprint];
    case 'summary':
      return [signal.summary];
    case 'entity':
      return signal.entities.flatMap((ref) => [ref.id, ref.name]);
    default: {
      const labels = signal.attributes.labels;
      const fromLabels =
        labels && typeof labels === 'object' && !Array.isArray(labels)
          ? (labels as Record<string, unknown>)[name]
          : undefined;
      const value = fromLabels ?? signal.attributes[name];
      return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
        ? [String(value)]
        : [];
    }
  }
}

/** True when every matcher matches the signal. A bad regular expression matches nothing. */
export function matches(signal: Signal, matchers: readonly Matcher[]): boolean {
  return matchers.every((matcher) => {
    const values = label(signal, matcher.name);
    if (!matcher.isRegex) return values.includes(matcher.value);
    let pattern: RegExp;
    try {
      pattern = new RegExp(`^(?:${matcher.value})$`);
    } catch {
      return false;
    }
    return values.some((value) => pattern.test(value));
  });
}

/**
 * The loop's noise filter, shared by every replica through Redis: flapping alerts (more than
 * `flapThreshold` status changes within `flapWindowMs`), silences, maintenance windows and
 * patterns learned as noise. Counts what it suppresses for the digest and the metrics.
 * Keys: `<prefix>:loop:noise:*`.
 */
export class NoiseFilter {
  readonly #connection: Redis;
  readonly #key: string;
  readonly #flapWindowMs: number;
  readonly #flapThreshold: number;
  readonly #static: Silence[];

  constructor(options: { connection: Redis; prefix: string } & NoiseOptions) {
    this.#connection = options.connection;
    this.#key = `${options.prefix}:loop:noise`;
    this.#flapWindowMs = options.flapWindowMs ?? 15 * 60_000;
    this.#flapThreshold = options.flapThreshold ?? 4;
    this.#static = (options.silences ?? []).map((silence) => silenceSchema.parse(silence));
  }

  /**
   * Judges signals in order, each at its `observedAt`; counts those suppressed. Every alert status
   * change is recorded for flapping, but resolutions themselves always pass. The silences are read
   * once for all of them.
   */
  async judgeAll(signals: readonly Signal[]): Promise<NoiseVerdict[]> {
    const [silences, changes] = await Promise.all([this.silences(), this.#recordStatuses(signals)]);
    const verdicts = signals.map((signal, index) => this.#verdict(signal, changes[index], silences));
    const suppressed = verdicts.flatMap((verdict, index) =>
      verdict.suppressed ? [{ reason: verdict.reason, signal: signals[index] as Signal }] : [],
    );
    if (suppressed.length > 0) {
      const counting = this.#connection.multi();
      for (const { reason, signal } of suppressed) {
        counting
          .hincrby(`${this.#key}:since`, reason, 1)
          .hincrby(`${this.#key}:total`, reason, 1)
          .zincrby(`${this.#key}:top`, 1, stableHash(signal.fingerprint).slice(0, 16));
      }
      await counting.exec();
    }
    return verdicts;
  }

  /**
   * Records every alert status change of `signals` in one script call, in order; returns the
   * changes within the window per signal (undefined for a signal that is not an alert status).
   */
  async #recordStatuses(signals: readonly Signal[]): Promise<Array<number | undefined>> {
    const keys: string[] = [];
    const args: string[] = [String(this.#flapWindowMs), String(this.#flapWindowMs * 2)];
    const positions: number[] = [];
    for (const [index, signal] of signals.entries()) {
      if (signal.kind !== 'alert' || !signal.status) continue;
      const digest = stableHash(signal.fingerprint).slice(0, 16);
      keys.push(
        `${this.#key}:flap:${digest}`,
        `${this.#key}:flap-last:${digest}`,
        `${this.#key}:flap-last-at:${digest}`,
      );
      args.push(String(signal.observedAt), signal.status, signal.id);
      positions.push(index);
    }
    const changes: Array<number | undefined> = signals.map(() => undefined);
    if (positions.length === 0) return changes;
    const counts = (await FLAP.run(this.#connection, keys, args)) as unknown[];
    positions.forEach((position, at) => {
      changes[position] = Number(counts[at]);
    });
    return changes;
  }

  /** The verdict on a signal at its `observedAt`, given its recorded status changes. */
  #verdict(signal: Signal, changes: number | undefined, silences: readonly Silence[]): NoiseVerdict {
    const now = signal.observedAt;
    if (changes !== undefined) {
      // A resolution is never suppressed: it opens nothing, and an incident the alert joined
      // before it started flapping (or before a silence began) must still be able to clear.
      if (signal.status === 'resolved') return { suppressed: false };
      if (changes > this.#flapThreshold)
        return {
          suppressed: true,
          reason: 'flapping',
          detail: `${changes} status changes within ${this.#flapWindowMs} ms (limit ${this.#flapThreshold})`,
        };
    }
    for (const silence of silences) {
      if (silence.startsAt > now || (silence.endsAt !== undefined && now >= silence.endsAt)) continue;
      if (!matches(signal, silence.matchers)) continue;
      const reason: SuppressionReason = silence.kind;
      return {
        suppressed: true,
        reason,
        detail: `${silence.kind} ${silence.id}${silence.comment ? `: ${silence.comment}` : ''}`,
      };
    }
    return { suppressed: false };
  }

  /** The latest status seen of an alert's fingerprint (within twice the flap window), if any. */
  async lastStatus(fingerprint: string): Promise<string | undefined> {
    const digest = stableHash(fingerprint).slice(0, 16);
    return (await this.#connection.get(`${this.#key}:flap-last:${digest}`)) ?? undefined;
  }

  /** Configured silences and those added at run time (silences, maintenance windows, learned noise). */
  async silences(): Promise<Silence[]> {
    const stored = await this.#connection.hvals(`${this.#key}:silences`);
    const parsed = stored.flatMap((raw) => {
      const result = silenceSchema.safeParse(JSON.parse(raw));
      return result.success ? [result.data] : [];
    });
    return [...this.#static, ...parsed];
  }

  /** Adds or replaces a silence, maintenance window or learned pattern (by id). Returns it validated. */
  async addSilence(input: SilenceInput): Promise<Silence> {
    const silence = silenceSchema.parse(input);
    await this.#connection.hset(`${this.#key}:silences`, silence.id, JSON.stringify(silence));
    return silence;
  }

  /**
   * Records a pattern as noise (`learned-<id>`), from now on or over `during`: what the learn stage
   * calls (see `NoiseLearner`).
   */
  learnNoise(
    id: string,
    matchers: readonly Matcher[],
    comment: string,
    during: { startsAt?: number; endsAt?: number } = {},
  ): Promise<Silence> {
    return this.addSilence({
      id: `learned-${id}`,
      kind: 'learned',
      matchers: [...matchers],
      comment,
      createdBy: 'nightshift:learn',
      ...during,
    });
  }

  /** Removes a run-time silence; true when one was there. */
  async removeSilence(id: string): Promise<boolean> {
    return (await this.#connection.hdel(`${this.#key}:silences`, id)) === 1;
  }

  /**
   * What was suppressed since the last digest (and in total). With `reset`, starts a new digest
   * period atomically, so two replicas emitting digests never count a signal twice.
   */
  async digest(options: { reset?: boolean } = {}): Promise<SuppressionDigest> {
    const sinceKey = `${this.#key}:since`;
    const topKey = `${this.#key}:top`;
    let since: Record<string, string>;
    let top: string[];
    if (options.reset) {
      const replies = (await this.#connection
        .multi()
        .hgetall(sinceKey)
        .zrevrange(topKey, 0, 9, 'WITHSCORES')
        .del(sinceKey, topKey)
        .exec()) ?? [
        [null, {}],
        [null, []],
      ];
      since = (replies[0]?.[1] ?? {}) as Record<string, string>;
      top = (replies[1]?.[1] ?? []) as string[];
    } else {
      [since, top] = await Promise.all([
        this.#connection.hgetall(sinceKey),
        this.#connection.zrevrange(topKey, 0, 9, 'WITHSCORES'),
      ]);
    }
    const total = await this.#connection.hgetall(`${this.#key}:total`);
    const counts = (source: Record<string, string>): Record<SuppressionReason, number> =>
      Object.fromEntries(REASONS.map((reason) => [reason, Number(source[reason] ?? 0)])) as Record<
        SuppressionReason,
        number
      >;
    const pairs: Array<{ fingerprint: string; count: number }> = [];
    for (let index = 0; index + 1 < top.length; index += 2)
      pairs.push({ fingerprint: top[index] ?? '', count: Number(top[index + 1]) });
    return { since: counts(since), total: counts(total), top: pairs };
  }
}
