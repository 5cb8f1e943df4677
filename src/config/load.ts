import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { LineCounter, isMap, parseDocument } from 'yaml';
import { ConfigError, type Issue } from '../shared/errors.js';
import { configSchema, type Config } from './schema.js';
import { NON_SETTING_ENV, settings, type Setting } from './settings.js';

export interface LoadOptions {
  /** The environment to read; only this module reads `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** A YAML file; when absent, NIGHTSHIFT_CONFIG, then `./nightshift.yaml` if it exists. */
  file?: string;
  cwd?: string;
}

type Tree = Record<string, unknown>;

function setAt(tree: Tree, path: readonly string[], value: unknown): void {
  let node = tree;
  for (const part of path.slice(0, -1)) {
    const next = node[part];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[part] = {};
    node = node[part] as Tree;
  }
  node[path[path.length - 1] as string] = value;
}

function getAt(tree: unknown, path: readonly string[]): unknown {
  let node = tree;
  for (const part of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Tree)[part];
  }
  return node;
}

function coerce(setting: Setting, raw: string): unknown {
  if (setting.type === 'number' || setting.type === 'integer') {
    return /^-?\d+(\.\d+)?$/.test(raw.trim()) ? Number(raw) : raw;
  }
  if (setting.type === 'list') {
    return raw
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item.length > 0);
  }
  if (setting.type === 'boolean') {
    const lowered = raw.trim().toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(lowered)) return true;
    if (['false', '0', 'no', 'off'].includes(lowered)) return false;
    return raw;
  }
  return raw;
}

function readSecretFile(file: string, cwd: string): { value?: string; error?: string } {
  try {
    return { value: readFileSync(resolve(cwd, file), 'utf8').replace(/\r?\n$/, '') };
  } catch (error) {
    return { error: (error as NodeJS.ErrnoException).code ?? String(error) };
  }
}

function readFile(file: string, cwd: string, issues: Issue[]): Tree {
  let text: string;
  try {
    text = readFileSync(resolve(cwd, file), 'utf8');
  } catch (error) {
    issues.push({
      path: 'config file',
      message: `cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)}); check the --config path or NIGHTSHIFT_CONFIG`,
    });
    return {};
  }
  const lines = new LineCounter();
  const document = parseDocument(text, { prettyErrors: false, lineCounter: lines });
  if (document.errors.length > 0) {
    for (const error of document.errors) {
      const line = lines.linePos(error.pos[0]).line;
      issues.push({
        path: 'config file',
        message: `${file}${line ? `:${line}` : ''}: ${error.message.split('\n')[0]}`,
      });
    }
    return {};
  }
  if (document.contents === null) return {};
  if (!isMap(document.contents)) {
    issues.push({ path: 'config file', message: `${file}: the top level must be a mapping of settings` });
    return {};
  }
  return document.toJS() as Tree;
}

/**
 * Builds the configuration from defaults, then the YAML file, then the environment (highest).
 * Throws a `ConfigError` listing every problem at once — unknown keys and variables, wrong
 * types, missing secrets of enabled integrations, unreadable `*_FILE` secrets — each naming the
 * key and how to fix it. Never logs.
 */
export function loadConfig(options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const issues: Issue[] = [];
  const fromEnv = new Map<string, string>();

  const explicitFile = options.file ?? env.NIGHTSHIFT_CONFIG;
  let tree: Tree = {};
  if (explicitFile) tree = readFile(explicitFile, cwd, issues);
  else {
    const fallback = resolve(cwd, 'nightshift.yaml');
    try {
      readFileSync(fallback);
      tree = readFile(fallback, cwd, issues);
    } catch {
      tree = {};
    }
  }

  for (const setting of settings()) {
    const inFile = getAt(tree, setting.path);
    if (setting.secret && typeof inFile === 'object' && inFile !== null && 'file' in inFile) {
      const file = inFile.file;
      const read = typeof file === 'string' ? readSecretFile(file, cwd) : { error: 'file must be a path' };
      if (read.error !== undefined) {
        issues.push({
          path: setting.key,
          message: `cannot read secret file ${String(file)} (${read.error}); mount it or fix the path`,
        });
        setAt(tree, setting.path, undefined);
      } else setAt(tree, setting.path, read.value);
    }
    if (!setting.env) continue;
    const raw = env[setting.env];
    if (raw !== undefined && raw !== '') {
      setAt(tree, setting.path, coerce(setting, raw));
      fromEnv.set(setting.key, setting.env);
    }
    const fileVariable = `${setting.env}_FILE`;
    const secretFile = setting.secret ? env[fileVariable] : undefined;
    if (secretFile !== undefined && secretFile !== '') {
      const read = readSecretFile(secretFile, cwd);
      if (read.error !== undefined) {
        issues.push({
          path: setting.key,
          message: `cannot read ${fileVariable}=${secretFile} (${read.error}); mount the file or unset ${fileVariable}`,
        });
      } else {
        setAt(tree, setting.path, read.value);
        fromEnv.set(setting.key, fileVariable);
      }
    }
  }

  const known = new Set(
    settings().flatMap((setting) =>
      setting.env ? [setting.env, ...(setting.secret ? [`${setting.env}_FILE`] : [])] : [],
    ),
  );
  for (const name of Object.keys(env)) {
    if (name.startsWith('NIGHTSHIFT_') && !known.has(name) && !NON_SETTING_ENV.has(name)) {
      issues.push({
        path: name,
        message: 'unknown environment variable; see the configuration reference in README.md',
      });
    }
  }

  const parsed = configSchema.safeParse(tree);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = issue.path.map(String).join('.');
      if (issue.code === 'unrecognized_keys') {
        for (const unknown of issue.keys) {
          issues.push({
            path: key ? `${key}.${unknown}` : unknown,
            message: 'unknown key; check the spelling against the configuration reference in README.md',
          });
        }
        continue;
      }
      const source = fromEnv.get(key);
      const setting = settings().find((candidate) => candidate.key === key);
      const hint = source
        ? ` (from ${source})`
        : setting?.env && issue.code === 'invalid_type'
          ? ` (or set ${setting.env})`
          : '';
      issues.push({ path: key || '(root)', message: `${issue.message}${hint}` });
    }
  }
  if (issues.length > 0 || !parsed.success) throw new ConfigError(issues);
  return parsed.data;
}

/** Every secret value in the configuration, so logs can mask them wherever they appear. */
export function secretValues(config: Config): string[] {
  const values: string[] = [];
  for (const setting of settings()) {
    if (!setting.secret) continue;
    const value = getAt(config, setting.path) as { reveal?: () => string } | undefined;
    if (value && typeof value.reveal === 'function') values.push(value.reveal());
  }
  for (const url of [config.redis.url, config.graph.neo4j.uri]) {
    const password = url ? passwordInUrl(url) : undefined;
    if (password) values.push(password);
  }
  return values;
}

function passwordInUrl(url: string): string | undefined {
  try {
    return decodeURIComponent(new URL(url).password) || undefined;
  } catch {
    return undefined;
  }
}
