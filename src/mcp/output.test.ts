import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TRUNCATION_MARK, truncateUtf8 } from './output.js';

describe('truncateUtf8', () => {
  it('keeps text that fits and cuts the rest on a character boundary, mark included', () => {
    expect(truncateUtf8('hello', 5)).toEqual({ text: 'hello', truncated: false });
    const cut = truncateUtf8('é'.repeat(20), 9 + Buffer.byteLength(TRUNCATION_MARK));
    expect(cut).toEqual({ text: `éééé${TRUNCATION_MARK}`, truncated: true });
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 200 }),
        fc.integer({ min: 20, max: 300 }),
        (text, max) => {
          const result = truncateUtf8(text, max);
          expect(Buffer.byteLength(result.text)).toBeLessThanOrEqual(max);
          expect(result.text).not.toContain('\uFFFD');
          if (result.truncated)
            expect(text.startsWith(result.text.slice(0, -TRUNCATION_MARK.length))).toBe(true);
          else expect(result.text).toBe(text);
        },
      ),
    );
  });
});
