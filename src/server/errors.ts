import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** The one JSON error shape every endpoint answers with: `{error: {code, message, details?}}`. */
export function jsonError(
  context: Context,
  status: ContentfulStatusCode,
  code: string,
  message: string,
  details?: unknown,
): Response {
  return context.json({ error: { code, message, ...(details === undefined ? {} : { details }) } }, status);
}
