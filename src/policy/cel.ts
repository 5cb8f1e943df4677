import { celEnv, isCelError, parse, plan } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';
import { FACT_SHAPE, type FactShape } from './facts.js';

type ParsedExpr = ReturnType<typeof parse>;
type Expr = ParsedExpr['expr'];

const environment = celEnv({ funcs: strings });

/** Calls the planner handles itself rather than through the function registry. */
const BUILT_IN_CALLS = new Set([
  '_&&_',
  '_||_',
  '_?_:_',
  '_[_]',
  '_[?_]',
  '_?._',
  '@not_strictly_false',
  '__not_strictly_false__',
]);

/** The outcome of one condition on one set of facts: a boolean, or why there is none. */
export type ConditionResult = { ok: true; value: boolean } | { ok: false; error: string };

/** A CEL condition parsed, checked against the fact shape and planned once; `test` never throws. */
export interface CompiledCondition {
  readonly source: string;
  /** The top-level facts the expression reads (`pattern`, `target`, ...). */
  readonly facts: readonly string[];
  test(bindings: Readonly<Record<string, unknown>>): ConditionResult;
}

/** Where in the expression text a problem is: 1-based line and column. */
export interface ConditionProblem {
  message: string;
  line: number;
  column: number;
}

export type CompileConditionResult =
  { ok: true; condition: CompiledCondition } | { ok: false; problems: ConditionProblem[] };

/**
 * Compiles a condition: syntax errors, unknown facts (`target.teir`), fields on plain values and
 * unknown functions are reported here, at load time, with their position in `source`.
 * What only the data can tell (an absent optional fact, a missing param, a type mismatch)
 * surfaces from `test` as `{ok: false}`.
 */
export function compileCondition(source: string): CompileConditionResult {
  let parsed: ParsedExpr;
  try {
    parsed = parse(source);
  } catch (error) {
    return { ok: false, problems: [syntaxProblem(error)] };
  }
  const problems: ConditionProblem[] = [];
  const positions = parsed.sourceInfo?.positions ?? {};
  const at = (expr: Expr): { line: number; column: number } =>
    position(source, positions[String(expr.id)] ?? 0);
  const roots = new Set<string>();
  checkExpr(parsed.expr, new Set(), (expr, message) => problems.push({ message, ...at(expr) }), roots);
  if (problems.length > 0) return { ok: false, problems };
  let program: ReturnType<typeof plan>;
  try {
    program = plan(environment, parsed);
  } catch (error) {
    return { ok: false, problems: [{ message: errorText(error), line: 1, column: 1 }] };
  }
  return {
    ok: true,
    condition: {
      source,
      facts: [...roots],
      test(bindings) {
        try {
          const value = program(bindings as Parameters<typeof program>[0]);
          if (isCelError(value)) {
            const absent = [...roots].filter((root) => bindings[root] === undefined);
            const prefix =
              absent.length > 0 ? `absent fact ${absent.map((root) => `"${root}"`).join(', ')}: ` : '';
            return { ok: false, error: `${prefix}${value.message}` };
          }
          if (typeof value !== 'boolean')
            return { ok: false, error: `the condition gave ${describeValue(value)}, not a bool` };
          return { ok: true, value };
        } catch (error) {
          return { ok: false, error: errorText(error) };
        }
      },
    },
  };
}

function syntaxProblem(error: unknown): ConditionProblem {
  const text = errorText(error);
  const match = /^<input>:(\d+):(\d+): (.*)$/s.exec(text);
  if (!match) return { message: `syntax error: ${text}`, line: 1, column: 1 };
  return { message: `syntax error: ${match[3] ?? text}`, line: Number(match[1]), column: Number(match[2]) };
}

function position(source: string, offset: number): { line: number; column: number } {
  const before = source.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return { line, column };
}

/** The shape a sub-expression stands for, when it is a path into the facts; otherwise undefined. */
function checkExpr(
  expr: Expr,
  locals: ReadonlySet<string>,
  report: (expr: Expr, message: string) => void,
  roots: Set<string>,
): { shape: FactShape; path: string } | undefined {
  const check = (inner: Expr, scope: ReadonlySet<string> = locals): ReturnType<typeof checkExpr> =>
    checkExpr(inner, scope, report, roots);
  const kind = expr.exprKind;
  switch (kind.case) {
    case 'identExpr': {
      const name = kind.value.name;
      if (locals.has(name)) return undefined;
      const shape = FACT_SHAPE.fields.get(name);
      if (shape) {
        roots.add(name);
        return { shape, path: name };
      }
      report(expr, `unknown fact "${name}" (facts: ${[...FACT_SHAPE.fields.keys()].join(', ')})`);
      return undefined;
    }
    case 'selectExpr': {
      const operand = kind.value.operand ? check(kind.value.operand) : undefined;
      if (!operand) return undefined;
      const field = kind.value.field;
      if (operand.shape.kind === 'open')
        return { shape: { kind: 'value' }, path: `${operand.path}.${field}` };
      if (operand.shape.kind === 'value') {
        report(expr, `"${operand.path}" is a value and has no field "${field}"`);
        return undefined;
      }
      const shape = operand.shape.fields.get(field);
      if (shape) return { shape, path: `${operand.path}.${field}` };
      report(
        expr,
        `unknown fact "${operand.path}.${field}" (${operand.path} has: ${[...operand.shape.fields.keys()].join(', ')})`,
      );
      return undefined;
    }
    case 'callExpr': {
      const call = kind.value;
      if (!BUILT_IN_CALLS.has(call.function) && !environment.funcs.find(call.function)) {
        report(expr, `unknown function "${call.function}"`);
      }
      if (call.target) check(call.target);
      for (const arg of call.args) check(arg);
      return undefined;
    }
    case 'listExpr':
      for (const element of kind.value.elements) check(element);
      return undefined;
    case 'structExpr':
      for (const entry of kind.value.entries) {
        if (entry.keyKind.case === 'mapKey') check(entry.keyKind.value);
        if (entry.value) check(entry.value);
      }
      return undefined;
    case 'comprehensionExpr': {
      const loop = kind.value;
      if (loop.iterRange) check(loop.iterRange);
      if (loop.accuInit) check(loop.accuInit);
      const inner = new Set(locals);
      for (const name of [loop.iterVar, loop.iterVar2, loop.accuVar]) if (name) inner.add(name);
      for (const part of [loop.loopCondition, loop.loopStep, loop.result]) if (part) check(part, inner);
      return undefined;
    }
    default:
      return undefined;
  }
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return `the string "${value}"`;
  if (typeof value === 'bigint' || typeof value === 'number') return `the number ${String(value)}`;
  if (value === null) return 'null';
  return `a ${typeof value}`;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
