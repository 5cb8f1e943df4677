import type { ToolResult } from './tool.js';

/** Default largest serialized `data` of one tool result, in characters (about 1,000 tokens). */
export const DEFAULT_OUTPUT_BUDGET_CHARS = 4_000;
/** Longest summary kept, in characters. */
export const MAX_SUMMARY_CHARS = 600;
/** Longest single string kept inside data. */
const MAX_STRING_CHARS = 400;

function cutString(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Evenly spaced items of a list, always keeping the first and the last. */
export function sample<T>(items: readonly T[], keep: number): T[] {
  if (items.length <= keep) return [...items];
  if (keep <= 1) return items.slice(0, Math.max(0, keep));
  const result: T[] = [];
  const step = (items.length - 1) / (keep - 1);
  for (let index = 0; index < keep; index++) result.push(items[Math.round(index * step)] as T);
  return result;
}

function shrink(value: unknown, listLimit: number, stringLimit: number): unknown {
  if (typeof value === 'string') return cutString(value, stringLimit);
  if (Array.isArray(value)) {
    const kept = sample(value, listLimit).map((item) => shrink(item, listLimit, stringLimit));
    return value.length > listLimit
      ? [...kept, `… ${value.length - listLimit} more of ${value.length}`]
      : kept;
  }
  if (value !== null && typeof value === 'object') {
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) copy[key] = shrink(item, listLimit, stringLimit);
    return copy;
  }
  return value;
}

/**
 * Cuts a result to `budgetChars` of serialized data: long strings are clipped, long lists are
 * sampled evenly (first and last kept, with a note of how many were left out), halving the list
 * limit until it fits; as a last resort the data is dropped and only the summary stays. Never
 * dumps a large output whole.
 */
export function boundOutput(result: ToolResult, budgetChars: number): ToolResult {
  const summary = cutString(result.summary, MAX_SUMMARY_CHARS);
  if (result.data === undefined) return { ...result, summary };
  if (JSON.stringify(result.data).length <= budgetChars) return { ...result, summary };
  for (let listLimit = 50; listLimit >= 2; listLimit = Math.floor(listLimit / 2)) {
    const data = shrink(result.data, listLimit, Math.min(MAX_STRING_CHARS, Math.floor(budgetChars / 4)));
    if (JSON.stringify(data).length <= budgetChars) return { ...result, summary, data, truncated: true };
  }
  return { status: result.status, summary: `${summary} (output too large; data left out)`, truncated: true };
}
