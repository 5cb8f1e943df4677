import type { Redis } from 'ioredis';
import type { ExecutionResult, VerifyRequest } from '../../act/index.js';
import type { Decision } from '../../loop/pipeline-types.js';

/** What the agent remembers about one incident beyond the loop's own record. */
export interface IncidentJournalEntry {
  investigation?: {
    causes: Array<{ category: string; suspect: string; confidence: number; statement: string }>;
    toolCalls: number;
    tokens: { input: number; output: number };
    planner: 'rules' | 'claude';
    fallbackReason?: string;
    /** The kinds of symptom the investigated signals showed (alert names, finding words), for learn. */
    symptoms?: string[];
    evidence: string[];
    markdown: string;
    at: number;
  };
  /** Decisions per proposal, in the order proposed. */
  decisions?: Array<{
    action: string;
    target: string;
    /** The target's kind and tier, which with the cause make the pattern the decision counts for. */
    targetKind: string;
    tier?: string;
    decision: Decision;
  }>;
  /** The last execution, and what verify needs. */
  execution?: { action: string; target: string; status: ExecutionResult['status']; at: number; by?: string };
  verify?: VerifyRequest;
  verified?: { ok: boolean; at: number; reason: string };
  escalations?: Array<{ at: number; reason: string }>;
  /** When the on-call was paged without an escalation (an approval of a first-of-its-kind case). */
  pagedAt?: number;
  /** Slack thread of the incident, once posted. */
  thread?: { channel: string; ts: string };
}

type Field = keyof IncidentJournalEntry;

/**
 * A small per-incident record in Redis (`<prefix>:agent:<incident>`), one JSON field per part, so
 * every replica sees what the others did: the investigation summary, decisions, the executed
 * action and its verify request, escalations. Kept 30 days.
 */
export class IncidentJournal {
  readonly #redis: Redis;
  readonly #prefix: string;

  constructor(redis: Redis, prefix: string) {
    this.#redis = redis;
    this.#prefix = prefix;
  }

  #key(incidentId: string): string {
    return `${this.#prefix}:agent:${incidentId}`;
  }

  async set<K extends Field>(incidentId: string, field: K, value: IncidentJournalEntry[K]): Promise<void> {
    const key = this.#key(incidentId);
    await this.#redis
      .multi()
      .hset(key, field, JSON.stringify(value))
      .pexpire(key, 30 * 86_400_000)
      .exec();
  }

  async append(incidentId: string, reason: string, at: number): Promise<void> {
    const current = (await this.get(incidentId)).escalations ?? [];
    await this.set(incidentId, 'escalations', [...current, { at, reason }]);
  }

  async get(incidentId: string): Promise<IncidentJournalEntry> {
    const raw = await this.#redis.hgetall(this.#key(incidentId));
    const entry: Record<string, unknown> = {};
    for (const [field, text] of Object.entries(raw)) entry[field] = JSON.parse(text);
    return entry;
  }
}
