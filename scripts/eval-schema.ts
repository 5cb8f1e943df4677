/**
 * Writes docs/evals.schema.json, the JSON Schema of estate and scenario files, from the zod
 * schemas in src/sim/scenario/. `--check` writes nothing and exits 1 when the file is stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import { evalsJsonSchema } from '../src/sim/scenario/json-schema.js';

const target = fileURLToPath(new URL('../docs/evals.schema.json', import.meta.url));
const options = (await prettier.resolveConfig(target)) ?? {};
const text = await prettier.format(JSON.stringify(evalsJsonSchema(), null, 2), {
  ...options,
  parser: 'json',
});

if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    current = '';
  }
  if (current !== text) {
    console.error('docs/evals.schema.json is out of date with src/sim/scenario/: run `npm run docs:evals`');
    process.exitCode = 1;
  } else {
    console.error('docs/evals.schema.json is up to date');
  }
} else {
  writeFileSync(target, text);
  console.error('wrote docs/evals.schema.json');
}
