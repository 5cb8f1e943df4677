import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { toIssues, ValidationError, type Issue } from '../../shared/errors.js';
import { estateSchema, type Estate } from './estate-schema.js';
import { scenarioSchema, type ScenarioFile } from './scenario-schema.js';

/** A scenario with its estate resolved and checked against it. */
export interface Scenario extends Omit<ScenarioFile, 'estate'> {
  estate: Estate;
  /** The scenario file, when it came from one. */
  file?: string;
  /** The estate file, when the estate came from one. */
  estateFile?: string;
}

/** Where names resolve: `<evalsDir>/estates/<name>.yaml`, `<evalsDir>/scenarios/<name>.yaml`. */
export interface LoadOptions {
  /** Defaults to the `evals/` folder shipped with nightshift. */
  evalsDir?: string;
  /** Base for relative paths given on the command line; defaults to process.cwd(). */
  cwd?: string;
}

/** The `evals/` folder shipped with the package (works from src/ and from dist/). */
export function defaultEvalsDir(): string {
  return fileURLToPath(new URL('../../../evals', import.meta.url));
}

function looksLikePath(value: string): boolean {
  return value.includes('/') || value.includes('\\') || /\.ya?ml$/.test(value);
}

function resolveFile(pathOrName: string, folder: string, options: LoadOptions, base?: string): string {
  if (looksLikePath(pathOrName)) {
    return isAbsolute(pathOrName) ? pathOrName : resolve(base ?? options.cwd ?? process.cwd(), pathOrName);
  }
  const dir = resolve(options.evalsDir ?? defaultEvalsDir(), folder);
  for (const extension of ['.yaml', '.yml']) {
    const candidate = resolve(dir, `${pathOrName}${extension}`);
    if (existsSync(candidate)) return candidate;
  }
  return resolve(dir, `${pathOrName}.yaml`);
}

function display(file: string, options: LoadOptions): string {
  const shown = relative(options.cwd ?? process.cwd(), file);
  return shown.startsWith('..') ? file : shown;
}

function readYaml(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ValidationError(
      what,
      [{ path: '', message: `cannot read the file (${(error as NodeJS.ErrnoException).code ?? 'error'})` }],
      {
        cause: error,
      },
    );
  }
  try {
    return parseYaml(text) as unknown;
  } catch (error) {
    const message = error instanceof YAMLParseError ? error.message.split('\n')[0] : String(error);
    throw new ValidationError(what, [{ path: '', message: `not valid YAML: ${message}` }], { cause: error });
  }
}

function check<T extends z.ZodType>(
  schema: T,
  data: unknown,
  what: string,
  prefix: Array<string | number> = [],
): z.output<T> {
  const result = schema.safeParse(data);
  if (!result.success) {
    throw new ValidationError(
      what,
      toIssues(result.error.issues.map((issue) => ({ ...issue, path: [...prefix, ...issue.path] }))),
    );
  }
  return result.data;
}

/** Parses an estate object (already read from YAML); throws ValidationError naming `what`. */
export function parseEstate(data: unknown, what = 'estate'): Estate {
  return check(estateSchema, data, what);
}

/** Loads an estate by name (under evals/estates/) or path; a broken file throws ValidationError. */
export function loadEstate(pathOrName: string, options: LoadOptions = {}): { estate: Estate; file: string } {
  const file = resolveFile(pathOrName, 'estates', options);
  const what = `estate file ${display(file, options)}`;
  return { estate: parseEstate(readYaml(file, what), what), file };
}

/**
 * Parses a scenario object: validates it, resolves its estate (a name, a path relative to
 * `file`, or inline) and checks every service, node, flag and datastore it names against the
 * estate. Throws ValidationError naming the file, the dotted field path and the reason.
 */
export function parseScenario(data: unknown, options: LoadOptions & { file?: string } = {}): Scenario {
  const what = options.file ? `scenario file ${display(options.file, options)}` : 'scenario';
  const parsed = check(scenarioSchema, data, what);
  let estate: Estate;
  let estateFile: string | undefined;
  if (typeof parsed.estate === 'string') {
    const base = options.file ? dirname(options.file) : undefined;
    const file = looksLikePath(parsed.estate)
      ? resolveFile(parsed.estate, 'estates', options, base)
      : resolveFile(parsed.estate, 'estates', options);
    if (!existsSync(file)) {
      throw new ValidationError(what, [
        { path: 'estate', message: `no estate "${parsed.estate}" (looked for ${display(file, options)})` },
      ]);
    }
    const loaded = loadEstate(file, options);
    estate = loaded.estate;
    estateFile = loaded.file;
  } else {
    estate = parsed.estate;
  }
  const issues = crossCheck(parsed, estate);
  if (issues.length > 0) throw new ValidationError(what, issues);
  // A policy path is read relative to the scenario file, else to the working directory.
  const besideFile =
    parsed.policy && options.file ? resolve(dirname(options.file), parsed.policy) : undefined;
  const policy = parsed.policy
    ? besideFile && existsSync(besideFile)
      ? besideFile
      : resolve(parsed.policy)
    : undefined;
  return {
    ...parsed,
    ...(policy ? { policy } : {}),
    estate,
    ...(options.file ? { file: options.file } : {}),
    ...(estateFile ? { estateFile } : {}),
  };
}

/** Loads a scenario by name (under evals/scenarios/) or path. */
export function loadScenario(pathOrName: string, options: LoadOptions = {}): Scenario {
  const file = resolveFile(pathOrName, 'scenarios', options);
  const what = `scenario file ${display(file, options)}`;
  return parseScenario(readYaml(file, what), { ...options, file });
}

function crossCheck(scenario: ScenarioFile, estate: Estate): Issue[] {
  const issues: Issue[] = [];
  const services = new Map(estate.services.map((service) => [service.name, service]));
  const nodes = new Set(estate.nodes.map((node) => node.name));
  const flags = new Map(estate.flags.map((flag) => [flag.key, flag]));
  const needService = (name: string, path: string): void => {
    if (!services.has(name))
      issues.push({ path, message: `unknown service "${name}" in estate ${estate.name}` });
  };
  scenario.timeline.forEach((entry, index) => {
    const at = `timeline.${index}`;
    if (entry.deploy) needService(entry.deploy.service, `${at}.deploy.service`);
    if (entry.logs) needService(entry.logs.service, `${at}.logs.service`);
    if (entry.action) {
      const { kind, target } = entry.action;
      if (kind === 'k8s.cordonNode' && !nodes.has(target))
        issues.push({ path: `${at}.action.target`, message: `unknown node "${target}"` });
      else if (kind === 'flags.set' && !flags.has(target))
        issues.push({ path: `${at}.action.target`, message: `unknown flag "${target}"` });
      else if (kind.startsWith('k8s.') && kind !== 'k8s.cordonNode')
        needService(target, `${at}.action.target`);
    }
    const fault = entry.fault;
    if (!fault) return;
    needService(fault.service, `${at}.fault.service`);
    if (fault.kind === 'connection_pool_exhaustion') {
      const datastore = services.get(fault.datastore);
      if (!datastore)
        issues.push({ path: `${at}.fault.datastore`, message: `unknown service "${fault.datastore}"` });
      else if (datastore.kind !== 'datastore')
        issues.push({
          path: `${at}.fault.datastore`,
          message: `"${fault.datastore}" is a ${datastore.kind}, not a datastore`,
        });
    }
    if (
      (fault.kind === 'node_pressure' || fault.kind === 'noisy_neighbor') &&
      fault.node &&
      !nodes.has(fault.node)
    ) {
      issues.push({ path: `${at}.fault.node`, message: `unknown node "${fault.node}"` });
    }
    if (fault.kind === 'flag_regression') {
      const key = fault.flag ?? estate.flags.find((flag) => flag.service === fault.service)?.key;
      if (!key)
        issues.push({
          path: `${at}.fault.flag`,
          message: `service "${fault.service}" has no flag; name one`,
        });
      else if (!flags.has(key)) issues.push({ path: `${at}.fault.flag`, message: `unknown flag "${key}"` });
    }
  });
  const cause = scenario.expect.rootCause;
  if (cause?.service) needService(cause.service, 'expect.rootCause.service');
  if (cause?.node && !nodes.has(cause.node))
    issues.push({ path: 'expect.rootCause.node', message: `unknown node "${cause.node}"` });
  return issues;
}
