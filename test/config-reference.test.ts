import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderReference, withReference } from '../scripts/config-reference.js';
import { settings } from '../src/config/settings.js';

describe('the configuration reference in README.md', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

  it('matches the schema (run `npm run docs:config` after changing a setting)', async () => {
    expect(await withReference(readme)).toBe(readme);
  });

  it('lists every setting with its environment variable', () => {
    const reference = renderReference();
    for (const setting of settings()) {
      expect(reference).toContain(
        setting.env ? `| \`${setting.key}\` | \`${setting.env}\`` : `| \`${setting.key}\` | — (file only)`,
      );
    }
    const named = settings().filter((setting) => setting.env);
    expect(new Set(named.map((setting) => setting.env)).size).toBe(named.length);
  });
});
