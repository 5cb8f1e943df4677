import { createHash, timingSafeEqual } from 'node:crypto';
import type { Secret } from '../shared/secret.js';

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * A checker of `Authorization: Bearer <token>` against `token`, in constant time (both sides are
 * hashed first, so their lengths never leak).
 */
export function bearerCheck(token: Secret): (header: string | undefined) => boolean {
  const expected = digest(token.reveal());
  return (header) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    return match?.[1] !== undefined && timingSafeEqual(digest(match[1]), expected);
  };
}
