import type { Context } from 'hono';
import type { z } from 'zod';
import { jsonError } from './errors.js';

/**
 * The request's JSON body checked against `schema`, or the answer to send instead: 400
 * `invalid_json` when the body is not JSON, 400 `invalid_body` naming every problem
 * (`field.path: message`, joined with `; `) when it does not fit.
 */
export async function jsonBody<Schema extends z.ZodType>(
  context: Context,
  schema: Schema,
): Promise<{ data: z.output<Schema> } | { refused: Response }> {
  let raw: unknown;
  try {
    raw = await context.req.json();
  } catch {
    return { refused: jsonError(context, 400, 'invalid_json', 'the body is not JSON') };
  }
  const parsed = schema.safeParse(raw);
  if (parsed.success) return { data: parsed.data };
  const problems = parsed.error.issues
    .map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`)
    .join('; ');
  return { refused: jsonError(context, 400, 'invalid_body', problems) };
}
