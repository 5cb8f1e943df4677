/**
 * Masks the parts of a log line that vary between occurrences of the same statement, then splits
 * it on whitespace. Masks, in order: quoted strings `<STR>`, timestamps `<TS>`, UUIDs `<UUID>`,
 * IPv4 addresses (with port) `<IP>`, hex numbers and long hex runs `<HEX>`, numbers (with a unit
 * such as `ms` or `%`) `<NUM>`.
 */
const MASKS: ReadonlyArray<[RegExp, string]> = [
  [/"(?:[^"\\\n]|\\.){0,500}"/g, '<STR>'],
  [/(?<![A-Za-z0-9])'[^'\n]{0,200}'(?![A-Za-z0-9])/g, '<STR>'],
  [/\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?/g, '<TS>'],
  [/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<UUID>'],
  [/\b(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?\b/g, '<IP>'],
  [/\b0x[0-9a-f]+\b/gi, '<HEX>'],
  [/\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{8,}\b/gi, '<HEX>'],
  [
    /(?<![A-Za-z0-9_.])[-+]?\d+(?:\.\d+)?(?:ms|us|ns|s|m|h|d|b|kb|mb|gb|ki|mi|gi|%)?(?![A-Za-z0-9_])/gi,
    '<NUM>',
  ],
];

/** Tokens of a line after masking; at most `maxTokens` (the rest is dropped). */
export function tokenize(line: string, maxTokens = 128): string[] {
  let masked = line;
  for (const [pattern, mask] of MASKS) masked = masked.replace(pattern, mask);
  const tokens = masked.split(/\s+/).filter((token) => token.length > 0);
  return tokens.length > maxTokens ? tokens.slice(0, maxTokens) : tokens;
}

/** The template placeholder for a position that varies. */
export const WILDCARD = '<*>';

/** True for tokens that vary by nature: masks, wildcards, and anything with a digit in it. */
export function isVariable(token: string): boolean {
  return token === WILDCARD || /^<[A-Z]+>$/.test(token) || /\d/.test(token);
}
