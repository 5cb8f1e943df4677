import type { Severity } from './signal.js';

const WORDS: Readonly<Record<string, Severity>> = {
  critical: 'critical',
  crit: 'critical',
  page: 'critical',
  emergency: 'critical',
  fatal: 'critical',
  disaster: 'critical',
  p1: 'critical',
  sev1: 'critical',
  error: 'error',
  err: 'error',
  high: 'error',
  major: 'error',
  p2: 'error',
  sev2: 'error',
  warning: 'warning',
  warn: 'warning',
  medium: 'warning',
  minor: 'warning',
  p3: 'warning',
  sev3: 'warning',
  info: 'info',
  informational: 'info',
  notice: 'info',
  low: 'info',
  none: 'info',
  ok: 'info',
  success: 'info',
  p4: 'info',
  p5: 'info',
  sev4: 'info',
  sev5: 'info',
};

/**
 * Maps the severity words monitoring tools use (`critical`, `page`, `P2`, `warn`, `none`…) onto
 * nightshift's four levels; anything unknown or missing gives `fallback`.
 */
export function normalizeSeverity(value: unknown, fallback: Severity): Severity {
  if (typeof value !== 'string') return fallback;
  return (
    WORDS[
      value
        .trim()
        .toLowerCase()
        .replace(/[\s_-]+/g, '')
    ] ?? fallback
  );
}
