const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * Parses a Datadog logs time bound: `now`, `now-15m` (units s, m, h, d, w), an ISO 8601 date,
 * or milliseconds since the epoch. Answers undefined when it cannot.
 */
export function parseTimeExpression(text: string, nowMs: number): number | undefined {
  const value = text.trim();
  if (value === 'now') return nowMs;
  const relative = /^now\s*([+-])\s*(\d+)\s*(s|m|h|d|w)$/.exec(value);
  if (relative) {
    const amount = Number(relative[2]) * (UNIT_MS[relative[3] ?? 's'] ?? 1_000);
    return relative[1] === '-' ? nowMs - amount : nowMs + amount;
  }
  if (/^\d+$/.test(value)) return Number(value);
  const parsed = Date.parse(value);
  return Number.isNaN(parsed) ? undefined : parsed;
}
