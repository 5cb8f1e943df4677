import { describe, expect, it } from 'vitest';
import { stableHash, stableId } from './ids.js';

describe('stable ids', () => {
  it('keep the digests earlier versions stored (incident keys, fingerprint digests, job ids)', () => {
    // sha256 of each part followed by NUL, as every earlier version hashed them.
    expect(stableHash('alertmanager', 'Down', 42, 'é✓')).toBe(
      'a6e8761e07178463f74ec658b0e26df27086492c1f26288ccfaf2f1329e3337f',
    );
    expect(stableId('inc', 'alertmanager', 'Down', 42, 'é✓')).toBe('inc_a6e8761e07178463f74ec658');
  });

  it('tell parts apart from their concatenation', () => {
    expect(stableHash('ab', 'c')).not.toBe(stableHash('a', 'bc'));
    expect(stableHash('a')).not.toBe(stableHash('a', ''));
  });
});
