import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { toIssues, ValidationError } from '../../../shared/errors.js';

const textBlock = z.strictObject({ type: z.literal('text'), text: z.string() });
const toolUseBlock = z.strictObject({
  type: z.literal('tool_use'),
  /** Generated (`toolu_sim_<step>_<index>`) when absent. */
  id: z.string().min(1).optional(),
  name: z.string().min(1),
  input: z.record(z.string(), z.unknown()).default({}),
});

const usage = z.strictObject({
  input_tokens: z.int().nonnegative().optional(),
  output_tokens: z.int().nonnegative().optional(),
  cache_creation_input_tokens: z.int().nonnegative().optional(),
  cache_read_input_tokens: z.int().nonnegative().optional(),
});

/** Conditions on the request a step answers; a request that fails one gets a 400 and is recorded as a mismatch. */
const expectation = z.strictObject({
  /** The request names this model. */
  model: z.string().optional(),
  /** The last user message carries a `tool_result` for this tool_use id. */
  toolResultFor: z.string().optional(),
  /** The last user message's text contains this. */
  lastUserTextIncludes: z.string().optional(),
  /** The system prompt contains this. */
  systemIncludes: z.string().optional(),
  /** The request offers at least these tools (by name). */
  tools: z.array(z.string()).optional(),
  /** None of these strings appears anywhere in the request body (e.g. secrets). */
  notContaining: z.array(z.string()).optional(),
});

const reply = z.strictObject({
  content: z.array(z.discriminatedUnion('type', [textBlock, toolUseBlock])).min(1),
  /** Default: `tool_use` when a tool_use block is present, else `end_turn`. */
  stop_reason: z
    .enum(['end_turn', 'tool_use', 'max_tokens', 'stop_sequence', 'pause_turn', 'refusal'])
    .optional(),
  /** Default: the request's model. */
  model: z.string().optional(),
  /** Missing counts are estimated (about 4 characters per token). */
  usage: usage.optional(),
});

const failure = z.strictObject({
  status: z.int().min(400).max(599),
  /** Default by status: 400 invalid_request_error, 401 authentication_error, 403 permission_error, 404 not_found_error, 413 request_too_large, 429 rate_limit_error, 529 overloaded_error, other 5xx api_error. */
  type: z.string().optional(),
  message: z.string().optional(),
  /** Seconds, sent as `retry-after` (fractions allowed). */
  retryAfter: z.number().nonnegative().optional(),
  /** Sent as `x-should-retry`. */
  shouldRetry: z.boolean().optional(),
});

const step = z
  .strictObject({
    /** A label for mismatch messages. */
    name: z.string().optional(),
    expect: expectation.optional(),
    /** Wall ms to wait before answering (longer than the client's timeout to make it time out). */
    delayMs: z.int().nonnegative().optional(),
    reply: reply.optional(),
    error: failure.optional(),
  })
  .refine((value) => (value.reply === undefined) !== (value.error === undefined), {
    message: 'a step has exactly one of reply or error',
  });

/** The script file: steps answered in order, one per `POST /v1/messages`. */
export const anthropicScriptSchema = z.strictObject({
  steps: z.array(step),
  /** What a request past the last step gets: a 500 `api_error` with `x-should-retry: false` (default), or the last step again. */
  onExhausted: z.enum(['error', 'repeat-last']).default('error'),
});

export type AnthropicScript = z.infer<typeof anthropicScriptSchema>;
export type AnthropicScriptInput = z.input<typeof anthropicScriptSchema>;
export type ScriptStep = AnthropicScript['steps'][number];
export type ScriptExpectation = NonNullable<ScriptStep['expect']>;

/** Validates a script object; throws ValidationError naming `source`, the field and the reason. */
export function parseAnthropicScript(value: unknown, source = 'Anthropic script'): AnthropicScript {
  const result = anthropicScriptSchema.safeParse(value);
  if (!result.success) throw new ValidationError(source, toIssues(result.error.issues));
  return result.data;
}

/** Reads a script file (YAML or JSON) and validates it. */
export async function loadAnthropicScript(path: string): Promise<AnthropicScript> {
  const text = await readFile(path, 'utf8');
  let value: unknown;
  try {
    value = parseYaml(text) as unknown;
  } catch (error) {
    throw new ValidationError(
      path,
      [{ path: '', message: error instanceof Error ? error.message : String(error) }],
      { cause: error },
    );
  }
  return parseAnthropicScript(value, path);
}
