import { z } from 'zod';
import { redact } from '../../ingest/redact/redact.js';
import { describeError, toIssues, ValidationError } from '../../shared/errors.js';
import { boundOutput, DEFAULT_OUTPUT_BUDGET_CHARS } from './bound.js';

/**
 * What a tool returns: `ok` with data, `no_data` when the question had no answer (an empty
 * series, no logs), or `error` with a message. `summary` is a one-paragraph digest that the
 * report cites; `data` is the bounded, redacted payload a planner reads.
 */
export interface ToolResult<O = unknown> {
  status: 'ok' | 'no_data' | 'error';
  summary: string;
  data?: O;
  /** True when `data` was sampled or cut to fit the tool's output budget. */
  truncated?: boolean;
}

/** What every tool run receives. */
export interface ToolRunContext {
  signal: AbortSignal;
  /** ms since the epoch, from the investigation's clock. */
  now: number;
}

/**
 * A tool the investigator may call. `readOnly: true` is part of the type and is checked again
 * at registration: a tool that can change anything never enters a `ToolSet`.
 */
export interface ReadOnlyTool<I = unknown, O = unknown> {
  /** `[a-zA-Z0-9_-]{1,64}`, the name a model sees. */
  readonly name: string;
  readonly description: string;
  readonly readOnly: true;
  readonly input: z.ZodType<I>;
  /** The input's JSON Schema as a model sees it, when the zod schema cannot say it (an external tool's own). */
  readonly inputJsonSchema?: Record<string, unknown>;
  /** Largest serialized `data`, in characters; default `DEFAULT_OUTPUT_BUDGET_CHARS`. */
  readonly outputBudgetChars?: number;
  run(input: I, context: ToolRunContext): Promise<ToolResult<O>>;
}

/** Declares a read-only tool with a typed input schema. */
export function defineTool<S extends z.ZodType, O>(tool: {
  name: string;
  description: string;
  input: S;
  inputJsonSchema?: Record<string, unknown>;
  outputBudgetChars?: number;
  run(input: z.output<S>, context: ToolRunContext): Promise<ToolResult<O>>;
}): ReadOnlyTool<z.output<S>, O> {
  return { ...tool, input: tool.input as unknown as z.ZodType<z.output<S>>, readOnly: true };
}

const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

/** A tool call as made: validated input and its bounded, redacted result. */
export interface ToolCallRecord {
  tool: string;
  input: Record<string, unknown>;
  result: ToolResult;
}

/**
 * The tools one investigation holds. Built only through `createToolSet`, which refuses any tool
 * without `readOnly: true`, a bad name, or a duplicate name; so a ToolSet holds read-only tools
 * by construction. `call` never throws: bad input, a failing tool and a timeout all come back as
 * `status: 'error'`. Every result is redacted and cut to the tool's output budget.
 */
export interface ToolSet {
  readonly names: readonly string[];
  get(name: string): ReadOnlyTool | undefined;
  list(): readonly ReadOnlyTool[];
  /** Checks an input against the tool's schema without running it. */
  validate(
    name: string,
    input: unknown,
  ): { ok: true; input: Record<string, unknown> } | { ok: false; error: string };
  call(name: string, input: unknown, context: ToolRunContext): Promise<ToolCallRecord>;
}

export interface ToolSetOptions {
  /** Wall ms a single call may take; default 20 s. */
  callTimeoutMs?: number;
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

/** Builds a ToolSet; throws ValidationError for a tool that is not read-only, badly named or repeated. */
export function createToolSet(tools: readonly ReadOnlyTool[], options: ToolSetOptions = {}): ToolSet {
  const byName = new Map<string, ReadOnlyTool>();
  for (const [index, tool] of tools.entries()) {
    const candidate = tool as Partial<ReadOnlyTool> | undefined;
    const name = typeof candidate?.name === 'string' ? candidate.name : `#${index}`;
    if (candidate?.readOnly !== true)
      throw new ValidationError('investigation tools', [
        {
          path: name,
          message: 'is not declared readOnly: true; the investigator holds read-only tools only',
        },
      ]);
    if (!TOOL_NAME.test(name))
      throw new ValidationError('investigation tools', [
        { path: name, message: 'a tool name is 1–64 letters, digits, _ or -' },
      ]);
    if (byName.has(name))
      throw new ValidationError('investigation tools', [{ path: name, message: 'is registered twice' }]);
    if (typeof candidate.run !== 'function' || !candidate.input)
      throw new ValidationError('investigation tools', [
        { path: name, message: 'needs an input schema and run()' },
      ]);
    byName.set(name, tool);
  }
  const timeoutMs = options.callTimeoutMs ?? 20_000;

  function validate(
    name: string,
    input: unknown,
  ): { ok: true; input: Record<string, unknown> } | { ok: false; error: string } {
    const tool = byName.get(name);
    if (!tool) return { ok: false, error: `no tool named ${name}` };
    const parsed = tool.input.safeParse(input ?? {});
    if (!parsed.success)
      return {
        ok: false,
        error: toIssues(parsed.error.issues)
          .map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message))
          .join('; '),
      };
    return { ok: true, input: asRecord(parsed.data) };
  }

  return {
    names: [...byName.keys()],
    get: (name) => byName.get(name),
    list: () => [...byName.values()],
    validate,
    async call(name, input, context) {
      const checked = validate(name, input);
      const shownInput = asRecord(redact(input ?? {}).value);
      if (!checked.ok)
        return {
          tool: name,
          input: shownInput,
          result: { status: 'error', summary: `invalid input: ${checked.error}` },
        };
      const tool = byName.get(name) as ReadOnlyTool;
      const timeout = AbortSignal.timeout(timeoutMs);
      const signal = AbortSignal.any([context.signal, timeout]);
      let result: ToolResult;
      try {
        result = await Promise.race([
          tool.run(checked.input, { ...context, signal }),
          new Promise<never>((_, reject) => {
            const fail = (): void =>
              reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
            if (signal.aborted) fail();
            else signal.addEventListener('abort', fail, { once: true });
          }),
        ]);
      } catch (error) {
        const message = timeout.aborted ? `timed out after ${timeoutMs} ms` : describeError(error);
        result = { status: 'error', summary: `${name} failed: ${message}` };
      }
      const clean = redact(result).value;
      return {
        tool: name,
        input: asRecord(redact(checked.input).value),
        result: boundOutput(clean, tool.outputBudgetChars ?? DEFAULT_OUTPUT_BUDGET_CHARS),
      };
    },
  };
}

/** A JSON schema of a tool's input, for a model's tool list. */
export function inputJsonSchema(tool: ReadOnlyTool): Record<string, unknown> {
  if (tool.inputJsonSchema) {
    const { $schema: _ignored, ...own } = tool.inputJsonSchema;
    return own;
  }
  const schema = z.toJSONSchema(tool.input, { io: 'input', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  delete schema.$schema;
  return schema;
}
