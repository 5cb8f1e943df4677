import { createHash, randomUUID } from 'node:crypto';

/** A random id with a readable prefix, e.g. `inc_3f2a…`. */
export function newId(prefix: string): string {
  return `${prefix}_${randomUUID().replaceAll('-', '').slice(0, 20)}`;
}

/** A stable hex digest of the given parts; the same parts always give the same id. */
export function stableHash(...parts: ReadonlyArray<string | number>): string {
  const hash = createHash('sha256');
  for (const part of parts) {
    hash.update(String(part));
    hash.update('\u0000');
  }
  return hash.digest('hex');
}

/** A deterministic id from its parts, e.g. for job ids and idempotency keys. */
export function stableId(prefix: string, ...parts: ReadonlyArray<string | number>): string {
  return `${prefix}_${stableHash(...parts).slice(0, 24)}`;
}
