import type { Redis } from 'ioredis';

/** An action waiting for a human decision. Stored as JSON under `approval:<id>`. */
export interface ApprovalRecord {
  v: 1;
  id: string;
  incidentId: string;
  /** One line: what would be done, e.g. `Roll back checkout to revision 41`. */
  title: string;
  /** The dry-run plan, as shown to the approver. */
  plan: string;
  /** 0..1 */
  confidence: number;
  evidenceUrl?: string;
  /** Slack user ids (`U…`, `W…`) and user group ids (`S…`) allowed to decide. */
  approvers: string[];
  requestedAt: number;
  expiresAt: number;
  /** Where the request was posted, once it was. */
  channel?: string;
  ts?: string;
  threadTs?: string;
}

/** The one decision an approval ever gets. */
export interface ApprovalDecisionRecord {
  decision: 'approved' | 'rejected' | 'expired';
  /** Slack user id, `api:<name>`, or `nightshift` for an expiry. */
  by: string;
  via: 'slack' | 'api' | 'expiry';
  at: number;
}

/** What an attempt to decide found. */
export type DecideResult =
  | { status: 'won'; decision: ApprovalDecisionRecord }
  | { status: 'lost'; decision: ApprovalDecisionRecord }
  | { status: 'unknown' };

/** Options of the store. */
export interface ApprovalStoreOptions {
  /** Prefix of every key. Default `nightshift:`. */
  keyPrefix?: string;
  /** How long records and decisions are kept after the deadline. Default 7 days. */
  retentionMs?: number;
}

// KEYS: record, decision, pending set. ARGV: decision JSON, ttl ms, approval id.
const DECIDE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1, ''} end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then
  redis.call('ZREM', KEYS[3], ARGV[3])
  return {1, ARGV[1]}
end
return {0, redis.call('GET', KEYS[2])}
`;

/**
 * Approval records in Redis, shared by every replica. `decide` is atomic (one Lua script: SET NX
 * on `approval:<id>:decision`), so however many clicks, API calls, expiry sweeps and replicas
 * race, exactly one wins and every other caller learns the winning decision. Pending approvals
 * sit in a sorted set by deadline for the expiry sweep. The caller owns the Redis connection.
 */
export class ApprovalStore {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #retentionMs: number;

  constructor(redis: Redis, options: ApprovalStoreOptions = {}) {
    this.#redis = redis;
    this.#prefix = options.keyPrefix ?? 'nightshift:';
    this.#retentionMs = options.retentionMs ?? 7 * 24 * 3_600_000;
  }

  #record(id: string): string {
    return `${this.#prefix}approval:${id}`;
  }

  #decision(id: string): string {
    return `${this.#prefix}approval:${id}:decision`;
  }

  get #pending(): string {
    return `${this.#prefix}approvals:pending`;
  }

  #ttl(record: ApprovalRecord, now: number): number {
    return Math.max(1, record.expiresAt - now) + this.#retentionMs;
  }

  /**
   * Saves a new record and marks it pending. Answers false (and changes nothing) when a record
   * with this id exists, so a replayed request never posts twice.
   */
  async create(record: ApprovalRecord, now: number): Promise<boolean> {
    const created = await this.#redis.set(
      this.#record(record.id),
      JSON.stringify(record),
      'PX',
      this.#ttl(record, now),
      'NX',
    );
    if (created !== 'OK') return false;
    await this.#redis.zadd(this.#pending, record.expiresAt, record.id);
    return true;
  }

  /** Replaces an existing record (e.g. to add where it was posted); keeps its lifetime. */
  async update(record: ApprovalRecord): Promise<void> {
    await this.#redis.set(this.#record(record.id), JSON.stringify(record), 'KEEPTTL', 'XX');
  }

  async get(id: string): Promise<ApprovalRecord | undefined> {
    const text = await this.#redis.get(this.#record(id));
    return text === null ? undefined : (JSON.parse(text) as ApprovalRecord);
  }

  async decision(id: string): Promise<ApprovalDecisionRecord | undefined> {
    const text = await this.#redis.get(this.#decision(id));
    return text === null ? undefined : (JSON.parse(text) as ApprovalDecisionRecord);
  }

  /** Records `decision` unless one exists; atomic across replicas. */
  async decide(record: ApprovalRecord, decision: ApprovalDecisionRecord): Promise<DecideResult> {
    const reply = (await this.#redis.eval(
      DECIDE,
      3,
      this.#record(record.id),
      this.#decision(record.id),
      this.#pending,
      JSON.stringify(decision),
      String(this.#ttl(record, decision.at)),
      record.id,
    )) as [number, string | null];
    const [code, text] = reply;
    if (code === -1 || text === null) return { status: 'unknown' };
    const stored = JSON.parse(text) as ApprovalDecisionRecord;
    return code === 1 ? { status: 'won', decision: stored } : { status: 'lost', decision: stored };
  }

  /** Ids of pending approvals whose deadline is at or before `now`, oldest first. */
  async due(now: number, limit = 100): Promise<string[]> {
    return this.#redis.zrangebyscore(this.#pending, '-inf', now, 'LIMIT', 0, limit);
  }

  /** Drops an id from the pending set (its record is gone). */
  async forget(id: string): Promise<void> {
    await this.#redis.zrem(this.#pending, id);
  }
}
