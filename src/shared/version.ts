import { readFileSync } from 'node:fs';

function readVersion(): string {
  for (const candidate of ['../../package.json', '../package.json']) {
    try {
      const manifest = JSON.parse(readFileSync(new URL(candidate, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (manifest.name === 'nightshift' && manifest.version) return manifest.version;
    } catch {
      // try the next location: the layout differs between src/ (tsx) and dist/ (built)
    }
  }
  return '0.0.0';
}

/** nightshift's version, from package.json. */
export const VERSION = readVersion();
