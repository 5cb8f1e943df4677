import type { Redis } from 'ioredis';
import { luaScript } from '../shared/lua-script.js';

/** The recorded result of a step, and whether this call ran it or found it done. */
export interface StepOutcome<T> {
  value: T;
  /** True when the step had completed before (a redelivered job); the work did not run again. */
  replayed: boolean;
}

/** A step's recorded result, or else one more start counted: `{1, result}` or `{0, starts}`. */
const BEGIN = luaScript(`local done = redis.call('HGET', KEYS[1], ARGV[1])
if done then return {1, done} end
return {0, redis.call('HINCRBY', KEYS[1], ARGV[1] .. '#started', 1)}`);

/** Records a step's result unless one is there; returns the result that stands, or false for ours. */
const FINISH = luaScript(`local wrote = redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
if wrote == 1 then return false end
return redis.call('HGET', KEYS[1], ARGV[1])`);

/**
 * Durable record of the effectful steps each incident has completed, so a job redelivered after
 * a crash (kill -9, a lost lock) does not repeat them. One Redis hash per incident:
 * `<prefix>:loop:steps:<incidentKey>`, field `<step>` holding the step's JSON result and field
 * `<step>#started` counting starts. Kept `retentionMs` after the last write.
 */
export class StepLedger {
  readonly #connection: Redis;
  readonly #prefix: string;
  readonly #retentionSeconds: number;

  readonly #onRecorded: ((incidentKey: string, step: string) => Promise<void>) | undefined;

  /**
   * `onRecorded` runs after a step's result is first recorded and before `once` returns: a place
   * for tracing (and for crash tests, which stop the process there).
   */
  constructor(options: {
    connection: Redis;
    prefix: string;
    retentionMs?: number;
    onRecorded?: (incidentKey: string, step: string) => Promise<void>;
  }) {
    this.#connection = options.connection;
    this.#prefix = options.prefix;
    this.#onRecorded = options.onRecorded;
    this.#retentionSeconds = Math.ceil((options.retentionMs ?? 30 * 86_400_000) / 1000);
  }

  #key(incidentKey: string): string {
    return `${this.#prefix}:loop:steps:${incidentKey}`;
  }

  /** The recorded result of `step`, or undefined when it has not completed. */
  async get<T>(incidentKey: string, step: string): Promise<T | undefined> {
    const raw = await this.#connection.hget(this.#key(incidentKey), step);
    return raw === null ? undefined : (JSON.parse(raw) as { value: T }).value;
  }

  /** The recorded results of several steps in one read, in order (undefined where not completed). */
  async getMany(incidentKey: string, steps: readonly string[]): Promise<unknown[]> {
    const raws = await this.#connection.hmget(this.#key(incidentKey), ...steps);
    return raws.map((raw) => (raw === null ? undefined : (JSON.parse(raw) as { value: unknown }).value));
  }

  /** Every completed step of an incident, by name. */
  async completed(incidentKey: string): Promise<Record<string, unknown>> {
    const all = await this.#connection.hgetall(this.#key(incidentKey));
    const result: Record<string, unknown> = {};
    for (const [field, raw] of Object.entries(all)) {
      if (!field.endsWith('#started')) result[field] = (JSON.parse(raw) as { value: unknown }).value;
    }
    return result;
  }

  /**
   * Runs `work` unless `step` is already recorded, then records its result before returning.
   * `work` learns whether an earlier start died before recording (`inDoubt`): the effect may have
   * happened, and the callee must dedupe on its idempotency key. A result is recorded with HSETNX,
   * so when two deliveries race, the first record wins and both return it.
   */
  async once<T>(
    incidentKey: string,
    step: string,
    work: (inDoubt: boolean) => Promise<T>,
  ): Promise<StepOutcome<T>> {
    const key = this.#key(incidentKey);
    // One round trip: the recorded result, or else a start counted.
    const [done, found] = (await BEGIN.run(this.#connection, [key], [step])) as [number, string | number];
    if (done === 1) return { value: (JSON.parse(String(found)) as { value: T }).value, replayed: true };
    const value = await work(Number(found) > 1);
    const stored = JSON.stringify({ value: value ?? null });
    const first = (await FINISH.run(this.#connection, [key], [step, stored, this.#retentionSeconds])) as
      string | null;
    if (typeof first === 'string')
      return { value: (JSON.parse(first) as { value: T }).value, replayed: true };
    await this.#onRecorded?.(incidentKey, step);
    return { value, replayed: false };
  }

  /**
   * Stores values under their steps (replacing them), in one write: for data later steps read,
   * such as the signals of an incident.
   */
  async putMany(incidentKey: string, entries: ReadonlyArray<readonly [string, unknown]>): Promise<void> {
    if (entries.length === 0) return;
    const key = this.#key(incidentKey);
    const fields = Object.fromEntries(entries.map(([step, value]) => [step, JSON.stringify({ value })]));
    await this.#connection.multi().hset(key, fields).expire(key, this.#retentionSeconds).exec();
  }
}
