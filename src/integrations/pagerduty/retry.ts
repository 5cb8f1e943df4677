/** How a failed delivery is retried: exponential backoff with jitter, capped. */
export interface BackoffOptions {
  /** Delay before the first retry. Default 500 ms. */
  baseDelayMs?: number;
  /** No single wait is longer than this, Retry-After included. Default 30 s. */
  maxDelayMs?: number;
  /** Returns a number in [0, 1); injected for deterministic tests. Default Math.random. */
  random?: () => number;
}

/**
 * The wait before retry number `retry` (1 for the first retry): base × 2^(retry−1), scaled by a
 * jitter factor in [0.8, 1.2), capped at `maxDelayMs`.
 */
export function backoffDelay(retry: number, options: BackoffOptions = {}): number {
  const base = options.baseDelayMs ?? 500;
  const max = options.maxDelayMs ?? 30_000;
  const jitter = 0.8 + 0.4 * (options.random ?? Math.random)();
  return Math.min(max, Math.round(base * 2 ** Math.max(0, retry - 1) * jitter));
}

/**
 * Milliseconds a `Retry-After` header asks to wait: delta-seconds or an HTTP date (relative to
 * `now`). Undefined when absent or unreadable; never negative.
 */
export function retryAfterMs(header: string | null | undefined, now: number): number | undefined {
  if (header === null || header === undefined || header.trim() === '') return undefined;
  const text = header.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
