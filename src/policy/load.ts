import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { LineCounter, parseAllDocuments } from 'yaml';
import { describeError } from '../shared/errors.js';
import { compileCondition, type CompiledCondition } from './cel.js';
import { buildPolicySet, type CompiledDocument, type PolicySet } from './policy-set.js';
import { policyDocumentSchema } from './schema.js';
import { lineInScalar, locate } from './yaml-lines.js';

/** One problem in a policy (or policy test) file: `file:line: message`, with the dotted `path` in the document. */
export interface PolicyProblem {
  file: string;
  line: number;
  path: string;
  message: string;
}

/** The outcome of loading: a usable set, or every problem found (never a partial set). */
export type PolicyLoadResult = { ok: PolicySet } | { errors: PolicyProblem[] };

/** A policy file's name and text; the unit `compilePolicies` works on. */
export interface PolicySource {
  file: string;
  text: string;
}

/** `file:line: message` (with the path when there is one), one problem per line of output. */
export function formatProblem(problem: PolicyProblem): string {
  return `${problem.file}:${problem.line}: ${problem.path ? `${problem.path}: ` : ''}${problem.message}`;
}

function dotted(path: ReadonlyArray<PropertyKey>): string {
  return path.map((part) => (typeof part === 'symbol' ? part.toString() : String(part))).join('.');
}

/**
 * Parses, validates and compiles policy texts (files in the given order; a file may hold
 * several `---` documents). Pure: no file system. Reports every schema error, CEL error,
 * duplicate rule name and duplicate policy name with its file and line.
 */
export function compilePolicies(sources: readonly PolicySource[]): PolicyLoadResult {
  const problems: PolicyProblem[] = [];
  const compiled: CompiledDocument[] = [];
  const policyFiles = new Map<string, string>();
  for (const { file, text } of sources) {
    const lines = new LineCounter();
    const documents = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false });
    if (!Array.isArray(documents)) continue;
    for (const document of documents) {
      if (document.errors.length > 0) {
        for (const error of document.errors) {
          problems.push({
            file,
            line: error.linePos?.[0].line ?? 1,
            path: '',
            message: `YAML: ${error.message}`,
          });
        }
        continue;
      }
      const value: unknown = document.toJS();
      if (value === null || value === undefined) continue;
      const parsed = policyDocumentSchema.safeParse(value);
      if (!parsed.success) {
        for (const issue of parsed.error.issues) {
          const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
          const path = keys.length > 0 ? [...issue.path, keys[0] ?? ''] : issue.path;
          problems.push({
            file,
            line: locate(document, lines, path).line,
            path: dotted(path),
            message: issue.message,
          });
        }
        continue;
      }
      const policy = parsed.data;
      const earlier = policyFiles.get(policy.metadata.name);
      if (earlier !== undefined) {
        problems.push({
          file,
          line: locate(document, lines, ['metadata', 'name']).line,
          path: 'metadata.name',
          message: `policy "${policy.metadata.name}" is already defined in ${earlier}`,
        });
      }
      policyFiles.set(policy.metadata.name, file);
      const ruleLines: number[] = [];
      const conditions: Array<CompiledCondition | undefined> = [];
      const seen = new Map<string, number>();
      policy.spec.rules.forEach((rule, index) => {
        const ruleLine = locate(document, lines, ['spec', 'rules', index]).line;
        ruleLines.push(ruleLine);
        const first = seen.get(rule.name);
        if (first !== undefined) {
          problems.push({
            file,
            line: locate(document, lines, ['spec', 'rules', index, 'name']).line,
            path: `spec.rules.${index}.name`,
            message: `rule "${rule.name}" is already defined at line ${first}`,
          });
        } else {
          seen.set(rule.name, ruleLine);
        }
        if (rule.when === undefined) {
          conditions.push(undefined);
          return;
        }
        const result = compileCondition(rule.when);
        if (result.ok) {
          conditions.push(result.condition);
          return;
        }
        conditions.push(undefined);
        const located = locate(document, lines, ['spec', 'rules', index, 'when']);
        for (const problem of result.problems) {
          problems.push({
            file,
            line: lineInScalar(located.value, lines, located.line, problem.line),
            path: `spec.rules.${index}.when`,
            message: `rule "${rule.name}": CEL: ${problem.message} (expression line ${problem.line}, column ${problem.column})`,
          });
        }
      });
      compiled.push({ document: policy, file, ruleLines, conditions });
    }
  }
  if (problems.length > 0) return { errors: problems };
  return { ok: buildPolicySet(compiled) };
}

/** True for the file names the loader reads: `*.yaml` and `*.yml`. */
export function isPolicyFileName(name: string): boolean {
  const extension = extname(name);
  return extension === '.yaml' || extension === '.yml';
}

/**
 * Loads policies from a directory (every `*.yaml`/`*.yml` directly in it, sorted by name; the
 * `tests/` folder is not read) or from a single file. Never throws: unreadable paths and an
 * empty directory are problems too.
 */
export async function loadPolicies(path: string): Promise<PolicyLoadResult> {
  let files: string[];
  try {
    const info = await stat(path);
    if (info.isDirectory()) {
      const entries = await readdir(path, { withFileTypes: true });
      files = entries
        .filter((entry) => entry.isFile() && isPolicyFileName(entry.name))
        .map((entry) => join(path, entry.name))
        .sort();
      if (files.length === 0) {
        return {
          errors: [
            { file: path, line: 0, path: '', message: 'no policy files (*.yaml, *.yml) in this directory' },
          ],
        };
      }
    } else {
      files = [path];
    }
  } catch (error) {
    return { errors: [{ file: path, line: 0, path: '', message: `cannot read: ${describeError(error)}` }] };
  }
  const sources: PolicySource[] = [];
  const problems: PolicyProblem[] = [];
  for (const file of files) {
    try {
      sources.push({ file, text: await readFile(file, 'utf8') });
    } catch (error) {
      problems.push({ file, line: 0, path: '', message: `cannot read: ${describeError(error)}` });
    }
  }
  if (problems.length > 0) return { errors: problems };
  return compilePolicies(sources);
}
