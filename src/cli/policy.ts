import { isAbsolute, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { formatProblem } from '../policy/load.js';
import { runPolicyTests, type PolicyTestCaseResult } from '../policy/policy-test.js';
import { UsageError, type CliIo, type Command } from './io.js';

const USAGE =
  'usage: nightshift policy test [dir]   (dir defaults to ./policies; cases in <dir>/tests/*.yaml)';

function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows)
    row.forEach((cell, index) => (widths[index] = Math.max(widths[index] ?? 0, cell.length)));
  return rows
    .map((row) =>
      row
        .map((cell, index) => cell.padEnd(widths[index] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function shown(path: string, cwd: string): string {
  const relativePath = relative(cwd, path);
  return relativePath === '' || relativePath.startsWith('..') || isAbsolute(relativePath)
    ? path
    : relativePath;
}

function report(results: PolicyTestCaseResult[], io: CliIo): number {
  const byFile = new Map<string, PolicyTestCaseResult[]>();
  for (const result of results) byFile.set(result.file, [...(byFile.get(result.file) ?? []), result]);
  const out: string[] = [];
  for (const [file, fileResults] of byFile) {
    out.push(shown(file, io.cwd));
    const rows = [['name', 'expected', 'got', 'rule', 'ok']];
    for (const result of fileResults) {
      const expected = result.expected.rule
        ? `${result.expected.mode} (${result.expected.rule})`
        : result.expected.mode;
      rows.push([
        result.name,
        expected,
        result.decision.mode,
        result.decision.rule ?? '-',
        result.ok ? 'ok' : 'FAIL',
      ]);
    }
    out.push(table(rows), '');
  }
  const failed = results.filter((result) => !result.ok);
  for (const result of failed) {
    out.push(`FAIL ${shown(result.file, io.cwd)} › ${result.name}: ${result.mismatches.join('; ')}`);
    for (const reason of result.decision.reasons) out.push(`    ${reason}`);
  }
  out.push(`${results.length - failed.length} passed, ${failed.length} failed, ${results.length} total`);
  io.stdout.write(`${out.join('\n')}\n`);
  return failed.length > 0 ? 1 : 0;
}

/**
 * `nightshift policy test [dir]`: runs the table cases of `<dir>/tests/*.yaml` against the
 * policies in `<dir>` and prints a table. Exit 0 when every case holds, 1 on a mismatch, 2 on
 * bad usage or an invalid policy or test file (one `file:line: message` per problem on stderr).
 */
export const policyCommand: Command = async (argv, io) => {
  let positionals: string[];
  try {
    positionals = parseArgs({ args: argv, allowPositionals: true, strict: true, options: {} }).positionals;
  } catch (error) {
    throw new UsageError(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
  }
  const [subcommand, dir, ...extra] = positionals;
  if (subcommand !== 'test' || extra.length > 0) throw new UsageError(USAGE);
  const path = resolve(io.cwd, dir ?? 'policies');
  const run = await runPolicyTests(path);
  if (!run.ok) {
    const lines = run.problems.map((problem) =>
      formatProblem({ ...problem, file: shown(problem.file, io.cwd) }),
    );
    io.stderr.write(`${lines.join('\n')}\n`);
    return 2;
  }
  return report(run.results, io);
};
