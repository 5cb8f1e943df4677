import { fieldKey, placeholder, QUICK_CHECK, REDACTION_PATTERNS, SENSITIVE_FIELD_NAMES } from './patterns.js';

/** How many secrets were replaced, in all and by pattern name (`sensitive-field` for field names). */
export interface RedactionCounts {
  total: number;
  byPattern: Record<string, number>;
}

/** A redacted copy and what was replaced. */
export interface Redacted<T> {
  value: T;
  counts: RedactionCounts;
}

/** Nesting deeper than this is replaced whole rather than walked. */
const MAX_DEPTH = 64;

function emptyCounts(): RedactionCounts {
  return { total: 0, byPattern: {} };
}

function count(counts: RedactionCounts, name: string, times = 1): void {
  counts.total += times;
  counts.byPattern[name] = (counts.byPattern[name] ?? 0) + times;
}

function redactInto(text: string, counts: RedactionCounts): string {
  if (text.length < 6 || !QUICK_CHECK.test(text)) return text;
  let result = text;
  for (const { name, pattern, replace } of REDACTION_PATTERNS) {
    pattern.lastIndex = 0;
    if (!pattern.test(result)) continue;
    pattern.lastIndex = 0;
    result = result.replace(pattern, (...args: unknown[]) => {
      const match = args[0] as string;
      const groups = args.slice(1, -2) as Array<string | undefined>;
      const replaced = replace(match, groups);
      if (replaced !== match) count(counts, name);
      return replaced;
    });
  }
  return result;
}

/** Replaces every secret the pattern set recognises in `text`. Never throws; idempotent. */
export function redactText(text: string): Redacted<string> {
  const counts = emptyCounts();
  return { value: redactInto(text, counts), counts };
}

function walk(value: unknown, counts: RedactionCounts, depth: number): unknown {
  if (typeof value === 'string') return redactInto(value, counts);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) {
    count(counts, 'too-deep');
    return placeholder('too-deep');
  }
  if (Array.isArray(value)) return value.map((item) => walk(item, counts, depth + 1));
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    const cleanKey = redactInto(key, counts);
    if (
      typeof item === 'string' &&
      item.length > 0 &&
      !item.startsWith('[REDACTED') &&
      SENSITIVE_FIELD_NAMES.has(fieldKey(key))
    ) {
      count(counts, 'sensitive-field');
      copy[cleanKey] = placeholder('sensitive-field');
    } else {
      copy[cleanKey] = walk(item, counts, depth + 1);
    }
  }
  return copy;
}

/**
 * A deep copy of `value` with every string redacted (object keys too), and the string value of
 * every field with a sensitive name (`password`, `token`, `dd_api_key`…) replaced whole. Plain
 * data only (what `JSON.parse` gives); other objects are copied as their own enumerable fields.
 * Never throws; never mutates its input; idempotent.
 */
export function redact<T>(value: T): Redacted<T> {
  const counts = emptyCounts();
  return { value: walk(value, counts, 0) as T, counts };
}

/** Adds `more` into `into`. */
export function addCounts(into: RedactionCounts, more: RedactionCounts): RedactionCounts {
  into.total += more.total;
  for (const [name, times] of Object.entries(more.byPattern))
    into.byPattern[name] = (into.byPattern[name] ?? 0) + times;
  return into;
}
