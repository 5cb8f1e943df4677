/** Default budget of one tool answer, in UTF-8 bytes. */
export const DEFAULT_MAX_OUTPUT_BYTES = 64 * 1024;

/** Appended to text cut at its budget, so a reader (or a model) knows there was more. */
export const TRUNCATION_MARK = '\n…[truncated]';

/**
 * Cuts `text` to at most `maxBytes` UTF-8 bytes (the mark included), never inside a character.
 * Returns the text unchanged, and `truncated: false`, when it fits.
 */
export function truncateUtf8(text: string, maxBytes: number): { text: string; truncated: boolean } {
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return { text, truncated: false };
  const room = Math.max(0, maxBytes - Buffer.byteLength(TRUNCATION_MARK, 'utf8'));
  const bytes = Buffer.from(text, 'utf8');
  let end = Math.min(room, bytes.length);
  // Step back over UTF-8 continuation bytes (10xxxxxx) to land on a character boundary.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end -= 1;
  return { text: `${bytes.subarray(0, end).toString('utf8')}${TRUNCATION_MARK}`, truncated: true };
}
