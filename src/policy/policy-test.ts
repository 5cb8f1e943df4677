import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { LineCounter, parseDocument } from 'yaml';
import { describeError } from '../shared/errors.js';
import { breakerStateSchema } from './breaker.js';
import { evaluate, type CapCause, type Decision, type PolicyRequest } from './evaluate.js';
import { factsSchema } from './facts.js';
import {
  compilePolicies,
  isPolicyFileName,
  loadPolicies,
  type PolicyLoadResult,
  type PolicyProblem,
  type PolicySource,
} from './load.js';
import { modeSchema, type Mode } from './mode.js';
import type { PolicySet } from './policy-set.js';
import { locate } from './yaml-lines.js';

const capCauseSchema = z.enum(['max', 'killSwitch', 'rateLimit', 'circuitBreaker']);

const controlsShape = {
  killSwitch: z.boolean().optional(),
  maxMode: modeSchema.optional(),
  breaker: breakerStateSchema.optional(),
  at: z.number().optional(),
};

const caseSchema = z
  .object({
    name: z.string().min(1),
    facts: z.record(z.string(), z.unknown()),
    ...controlsShape,
    expect: z
      .object({
        mode: modeSchema,
        /** The deciding rule's name; `null` asserts that no rule matched (the default applied). */
        rule: z.string().min(1).nullable().optional(),
        policy: z.string().min(1).optional(),
        approvers: z.array(z.string()).optional(),
        capped: z.array(capCauseSchema).optional(),
      })
      .strict(),
  })
  .strict();

/**
 * A policy test file (`<dir>/tests/*.yaml`): `cases` of facts and the decision they must get.
 * `defaults.facts` is deep-merged under every case's facts; `policy` names the policy files of
 * `<dir>` to test against (default: all of them).
 */
export const policyTestFileSchema = z
  .object({
    apiVersion: z.literal('nightshift.dev/v1').optional(),
    kind: z.literal('PolicyTest').optional(),
    policy: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
    defaults: z
      .object({ facts: z.record(z.string(), z.unknown()).optional(), ...controlsShape })
      .strict()
      .optional(),
    cases: z.array(caseSchema).min(1),
  })
  .strict();

/** One case's outcome; `mismatches` lists what differed (empty when `ok`). */
export interface PolicyTestCaseResult {
  file: string;
  name: string;
  expected: { mode: Mode; rule?: string | null };
  decision: Decision;
  ok: boolean;
  mismatches: string[];
}

/** All cases of a test directory, or the problems that kept them from running. */
export type PolicyTestRun =
  { ok: true; results: PolicyTestCaseResult[] } | { ok: false; problems: PolicyProblem[] };

interface PreparedCase {
  name: string;
  request: PolicyRequest;
  expect: z.output<typeof caseSchema>['expect'];
}

/** A parsed test file: its cases with facts validated, and which policy files it tests. */
export interface PreparedTestFile {
  file: string;
  policies?: string[];
  cases: PreparedCase[];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * `overlay` merged onto `base`: objects merge key by key, a `null` in `overlay` removes the key
 * (so a case can drop a default fact), anything else in `overlay` replaces.
 */
export function deepMerge(base: unknown, overlay: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(overlay)) return overlay === undefined ? base : overlay;
  const result: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(overlay)) {
    if (value === null) delete result[key];
    else result[key] = deepMerge(base[key], value);
  }
  return result;
}

/** Parses and validates one test file; every problem carries its file and line. Pure. */
export function prepareTestFile(
  source: PolicySource,
): { ok: PreparedTestFile } | { errors: PolicyProblem[] } {
  const { file, text } = source;
  const lines = new LineCounter();
  const document = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (document.errors.length > 0) {
    return {
      errors: document.errors.map((error) => ({
        file,
        line: error.linePos?.[0].line ?? 1,
        path: '',
        message: `YAML: ${error.message}`,
      })),
    };
  }
  const parsed = policyTestFileSchema.safeParse(document.toJS());
  const dotted = (path: ReadonlyArray<PropertyKey>): string => path.map(String).join('.');
  if (!parsed.success) {
    return {
      errors: parsed.error.issues.map((issue) => {
        const path =
          issue.code === 'unrecognized_keys' && issue.keys[0] ? [...issue.path, issue.keys[0]] : issue.path;
        return { file, line: locate(document, lines, path).line, path: dotted(path), message: issue.message };
      }),
    };
  }
  const { defaults, cases } = parsed.data;
  const errors: PolicyProblem[] = [];
  const prepared: PreparedCase[] = [];
  const names = new Set<string>();
  cases.forEach((testCase, index) => {
    if (names.has(testCase.name)) {
      errors.push({
        file,
        line: locate(document, lines, ['cases', index, 'name']).line,
        path: `cases.${index}.name`,
        message: `duplicate case name "${testCase.name}"`,
      });
    }
    names.add(testCase.name);
    const facts = factsSchema.safeParse(deepMerge(defaults?.facts ?? {}, testCase.facts));
    if (!facts.success) {
      for (const issue of facts.error.issues) {
        const inner =
          issue.code === 'unrecognized_keys' && issue.keys[0] ? [...issue.path, issue.keys[0]] : issue.path;
        const path = ['cases', index, 'facts', ...inner];
        errors.push({
          file,
          line: locate(document, lines, path).line,
          path: dotted(path),
          message: issue.message,
        });
      }
      return;
    }
    const killSwitch = testCase.killSwitch ?? defaults?.killSwitch;
    const maxMode = testCase.maxMode ?? defaults?.maxMode;
    const breaker = testCase.breaker ?? defaults?.breaker;
    const at = testCase.at ?? defaults?.at;
    prepared.push({
      name: testCase.name,
      request: {
        facts: facts.data,
        ...(killSwitch === undefined ? {} : { killSwitch }),
        ...(maxMode === undefined ? {} : { maxMode }),
        ...(breaker === undefined ? {} : { breaker }),
        ...(at === undefined ? {} : { at }),
      },
      expect: testCase.expect,
    });
  });
  if (errors.length > 0) return { errors };
  const policy = parsed.data.policy;
  return {
    ok: {
      file,
      ...(policy === undefined ? {} : { policies: typeof policy === 'string' ? [policy] : policy }),
      cases: prepared,
    },
  };
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const left = new Set(a);
  const right = new Set(b);
  return left.size === right.size && [...left].every((item) => right.has(item));
}

/** Runs a prepared file's cases against a policy set. Pure. */
export function runTestCases(set: PolicySet, testFile: PreparedTestFile): PolicyTestCaseResult[] {
  return testFile.cases.map(({ name, request, expect }) => {
    const decision = evaluate(set, request);
    const mismatches: string[] = [];
    if (decision.mode !== expect.mode) mismatches.push(`mode: expected ${expect.mode}, got ${decision.mode}`);
    if (expect.rule !== undefined && (decision.rule ?? null) !== expect.rule) {
      mismatches.push(`rule: expected ${expect.rule ?? '(none)'}, got ${decision.rule ?? '(none)'}`);
    }
    if (expect.policy !== undefined && decision.policy !== expect.policy) {
      mismatches.push(`policy: expected ${expect.policy}, got ${decision.policy ?? '(none)'}`);
    }
    if (expect.approvers !== undefined && !sameSet(expect.approvers, decision.approvers)) {
      mismatches.push(
        `approvers: expected [${expect.approvers.join(', ')}], got [${decision.approvers.join(', ')}]`,
      );
    }
    const capped: CapCause[] = decision.capped?.by ?? [];
    if (expect.capped !== undefined && !sameSet(expect.capped, capped)) {
      mismatches.push(`capped: expected [${expect.capped.join(', ')}], got [${capped.join(', ')}]`);
    }
    return {
      file: testFile.file,
      name,
      expected: { mode: expect.mode, ...(expect.rule === undefined ? {} : { rule: expect.rule }) },
      decision,
      ok: mismatches.length === 0,
      mismatches,
    };
  });
}

/**
 * Runs every `<dir>/tests/*.yaml` against the policies of `<dir>`. Never throws; missing or
 * invalid files come back as problems (a run with no test file is a problem too).
 */
export async function runPolicyTests(dir: string): Promise<PolicyTestRun> {
  const testDir = join(dir, 'tests');
  let names: string[];
  try {
    names = (await readdir(testDir, { withFileTypes: true }))
      .filter((entry) => entry.isFile() && isPolicyFileName(entry.name))
      .map((entry) => entry.name)
      .sort();
  } catch (error) {
    return {
      ok: false,
      problems: [
        { file: testDir, line: 0, path: '', message: `cannot read test directory: ${describeError(error)}` },
      ],
    };
  }
  if (names.length === 0) {
    return {
      ok: false,
      problems: [{ file: testDir, line: 0, path: '', message: 'no test files (*.yaml, *.yml)' }],
    };
  }
  const problems: PolicyProblem[] = [];
  const prepared: PreparedTestFile[] = [];
  for (const name of names) {
    const file = join(testDir, name);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      problems.push({ file, line: 0, path: '', message: `cannot read: ${describeError(error)}` });
      continue;
    }
    const result = prepareTestFile({ file, text });
    if ('ok' in result) prepared.push(result.ok);
    else problems.push(...result.errors);
  }

  const sets = new Map<string, PolicyLoadResult>();
  const setFor = async (testFile: PreparedTestFile): Promise<PolicyLoadResult> => {
    const key = testFile.policies ? testFile.policies.join('\n') : '';
    const cached = sets.get(key);
    if (cached) return cached;
    let result: PolicyLoadResult;
    if (!testFile.policies) {
      result = await loadPolicies(dir);
    } else {
      const sources: PolicySource[] = [];
      const unreadable: PolicyProblem[] = [];
      for (const policyFile of testFile.policies) {
        const file = join(dir, policyFile);
        try {
          sources.push({ file, text: await readFile(file, 'utf8') });
        } catch (error) {
          unreadable.push({
            file: testFile.file,
            line: 1,
            path: 'policy',
            message: `cannot read policy ${file}: ${describeError(error)}`,
          });
        }
      }
      result = unreadable.length > 0 ? { errors: unreadable } : compilePolicies(sources);
    }
    sets.set(key, result);
    return result;
  };

  const results: PolicyTestCaseResult[] = [];
  const reported = new Set<PolicyLoadResult>();
  for (const testFile of prepared) {
    const loaded = await setFor(testFile);
    if ('errors' in loaded) {
      if (!reported.has(loaded)) problems.push(...loaded.errors);
      reported.add(loaded);
      continue;
    }
    results.push(...runTestCases(loaded.ok, testFile));
  }
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, results };
}
