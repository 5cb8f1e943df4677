import type { Redis } from 'ioredis';
import { ValidationError } from '../shared/errors.js';
import type { PatternRecord } from './types.js';

/** What one ended incident adds to its pattern. */
export interface PatternUpdate {
  key: string;
  incidentId: string;
  at: number;
  /** Executed and verified (`success`), executed and not (`failure`), or not executed. */
  executed?: 'success' | 'failure';
  /** Shadow only: whether the suggested action would have cleared the symptoms. */
  shadow?: 'would-mitigate' | 'would-not';
  timeToMitigateMs?: number;
  fix?: string;
}

type CountField =
  | 'seen'
  | 'successes'
  | 'failures'
  | 'shadowWouldMitigate'
  | 'shadowWouldNot'
  | 'feedbackRight'
  | 'feedbackWrong'
  | 'ttmTotalMs'
  | 'ttmCount';

// KEYS[1] pattern hash, KEYS[2] set of incidents already counted.
// ARGV: incidentId, at, executed, shadow, ttm, fix. Counts an incident once, however often it is retried.
const RECORD = `
if redis.call('SADD', KEYS[2], ARGV[1]) == 0 then return 0 end
redis.call('HINCRBY', KEYS[1], 'seen', 1)
if ARGV[3] == 'success' then redis.call('HINCRBY', KEYS[1], 'successes', 1) end
if ARGV[3] == 'failure' then redis.call('HINCRBY', KEYS[1], 'failures', 1) end
if ARGV[4] == 'would-mitigate' then redis.call('HINCRBY', KEYS[1], 'shadowWouldMitigate', 1) end
if ARGV[4] == 'would-not' then redis.call('HINCRBY', KEYS[1], 'shadowWouldNot', 1) end
if ARGV[5] ~= '' then
  redis.call('HINCRBY', KEYS[1], 'ttmTotalMs', ARGV[5])
  redis.call('HINCRBY', KEYS[1], 'ttmCount', 1)
end
if ARGV[6] ~= '' then redis.call('HSET', KEYS[1], 'lastFix', ARGV[6]) end
redis.call('HSET', KEYS[1], 'lastSeenAt', ARGV[2])
return 1
`;

// KEYS[1] pattern hash, KEYS[2] hash of feedback per incident. ARGV: incidentId, verdict.
// One verdict per incident: a changed mind moves the count instead of adding to it.
const FEEDBACK = `
local previous = redis.call('HGET', KEYS[2], ARGV[1])
if previous == ARGV[2] then return 0 end
if previous then redis.call('HINCRBY', KEYS[1], previous, -1) end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('HINCRBY', KEYS[1], ARGV[2], 1)
return 1
`;

/**
 * Pattern records in Redis, shared by every replica. Counters move atomically (Lua), and an
 * incident counts once per pattern however often the learn stage is retried. Feedback is one
 * verdict per incident; giving the other verdict later moves the count.
 */
export class PatternStore {
  readonly #redis: Redis;
  readonly #prefix: string;

  constructor(redis: Redis, prefix: string) {
    this.#redis = redis;
    this.#prefix = prefix;
  }

  #keys(key: string, suffix: string): [string, string] {
    if (!/^pattern:[0-9a-f]{16}$/.test(key))
      throw new ValidationError('bad pattern key', [
        { path: 'key', message: `"${key}" is not a pattern key` },
      ]);
    return [`${this.#prefix}:${key}`, `${this.#prefix}:${key}:${suffix}`];
  }

  /** Adds an ended incident to its pattern; resolves false when it was already counted. */
  async record(update: PatternUpdate): Promise<boolean> {
    const [hash, seen] = this.#keys(update.key, 'incidents');
    const counted = await this.#redis.eval(
      RECORD,
      2,
      hash,
      seen,
      update.incidentId,
      String(update.at),
      update.executed ?? '',
      update.shadow ?? '',
      update.timeToMitigateMs !== undefined ? String(Math.max(0, Math.round(update.timeToMitigateMs))) : '',
      update.fix ?? '',
    );
    return counted === 1;
  }

  /** Records a human's verdict on the diagnosis of one incident of the pattern. */
  async feedback(key: string, incidentId: string, verdict: 'right' | 'wrong'): Promise<void> {
    const [hash, given] = this.#keys(key, 'feedback');
    await this.#redis.eval(
      FEEDBACK,
      2,
      hash,
      given,
      incidentId,
      verdict === 'right' ? 'feedbackRight' : 'feedbackWrong',
    );
  }

  /** The record of a pattern; all counts 0 when it was never seen. */
  async get(key: string): Promise<PatternRecord> {
    const [hash] = this.#keys(key, 'incidents');
    const raw = await this.#redis.hgetall(hash);
    const number = (field: CountField): number => Number(raw[field] ?? 0);
    const ttmCount = number('ttmCount');
    return {
      key,
      seen: number('seen'),
      successes: number('successes'),
      failures: number('failures'),
      shadowWouldMitigate: number('shadowWouldMitigate'),
      shadowWouldNot: number('shadowWouldNot'),
      feedbackRight: number('feedbackRight'),
      feedbackWrong: number('feedbackWrong'),
      ...(ttmCount > 0 ? { meanTimeToMitigateMs: number('ttmTotalMs') / ttmCount } : {}),
      ...(raw.lastFix ? { lastFix: raw.lastFix } : {}),
      ...(raw.lastSeenAt ? { lastSeenAt: Number(raw.lastSeenAt) } : {}),
    };
  }
}

/**
 * The policy's `pattern` facts from a record. A diagnosis humans called wrong counts against the
 * pattern as a failure, so feedback can take earned autonomy away but never grant it.
 */
export function patternFacts(record: PatternRecord): { seen: number; successes: number; failures: number } {
  return {
    seen: record.seen,
    successes: record.successes,
    failures: record.failures + record.feedbackWrong,
  };
}
