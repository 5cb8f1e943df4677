import { NightshiftError } from '../shared/errors.js';
import { sleep as defaultSleep } from '../shared/clock.js';

/** How the executor retries a failed call. */
export interface RetryOptions {
  /** Tries in all, at least 1. */
  attempts: number;
  /** The first wait; doubled per try up to `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  signal?: AbortSignal;
  /** Called before each wait, with the error that caused it. */
  onRetry?: (error: NightshiftError, attempt: number) => void;
}

export const DEFAULT_RETRY: RetryOptions = { attempts: 3, baseDelayMs: 250, maxDelayMs: 4_000 };

/** True for an error that says trying the same call again may succeed. */
export function isRetryable(error: unknown): error is NightshiftError {
  return error instanceof NightshiftError && error.retryable;
}

/**
 * Runs `call` until it resolves, retrying only errors marked retryable (a `NightshiftError`
 * with `retryable: true`), with capped exponential backoff. Anything else, or the last
 * retryable error, is rethrown as is. Resolves with the value and the number of tries.
 */
export async function withRetries<T>(
  call: (attempt: number) => Promise<T>,
  options: RetryOptions,
): Promise<{ value: T; attempts: number }> {
  const wait = options.sleep ?? defaultSleep;
  const attempts = Math.max(1, Math.floor(options.attempts));
  for (let attempt = 1; ; attempt++) {
    try {
      return { value: await call(attempt), attempts: attempt };
    } catch (error) {
      if (!isRetryable(error) || attempt >= attempts || options.signal?.aborted) throw error;
      options.onRetry?.(error, attempt);
      await wait(Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (attempt - 1)), options.signal);
    }
  }
}
