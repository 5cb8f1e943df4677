import { createHash, timingSafeEqual } from 'node:crypto';

/** The outcome of checking a delivery's credentials; `message` says what to fix, never a secret. */
export type AuthResult = { ok: true } | { ok: false; message: string };

export const AUTHENTICATED: AuthResult = { ok: true };

/** A failed check with a message for the sender. */
export function unauthorized(message: string): AuthResult {
  return { ok: false, message };
}

/**
 * Compares a presented secret with the expected one in constant time. Both are hashed first, so
 * neither the content nor the length of the expected secret leaks through timing.
 */
export function sameSecret(presented: string, expected: string): boolean {
  const left = createHash('sha256').update(presented, 'utf8').digest();
  const right = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(left, right);
}
