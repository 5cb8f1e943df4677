import { createHash } from 'node:crypto';
import type { z } from 'zod';
import { toIssues, type Issue } from '../shared/errors.js';
import { signalSchema, type Signal } from './signal.js';

/** Request headers with lower-case names, as Hono's `context.req.header()` returns them. */
export type WebhookHeaders = Readonly<Record<string, string | undefined>>;

/** What a parser needs besides the body; passing it in keeps parsers pure. */
export interface ParseContext {
  /** When the body arrived, ms since the epoch. */
  receivedAt: number;
  /** `sha256:<hex>` of the exact bytes received (see `rawDigest`). */
  digest: string;
  /** The cluster Kubernetes names belong to when the payload does not say. Default `default`. */
  cluster?: string;
}

/** Why a body could not be turned into signals; `issues` name the field paths (dotted). */
export interface ParseFailure {
  code: 'invalid_payload';
  message: string;
  issues: Issue[];
}

/**
 * A parser's answer: the signals (possibly none, for a delivery that carries nothing to ingest,
 * such as a ping) or why the body is unusable. Parsers never throw on any input.
 */
export type ParseResult = { ok: Signal[] } | { error: ParseFailure };

/** The cluster used when neither the payload nor the caller names one. */
export const DEFAULT_CLUSTER = 'default';

/** `sha256:<hex>` of the bytes: the pointer a signal keeps to its raw body. */
export function rawDigest(bytes: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** A failure listing every issue; the message names the first few paths. */
export function invalid(what: string, issues: Issue[]): { error: ParseFailure } {
  const shown = issues
    .slice(0, 5)
    .map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message))
    .join('; ');
  const more = issues.length > 5 ? ` (and ${issues.length - 5} more)` : '';
  return { error: { code: 'invalid_payload', message: `${what}: ${shown}${more}`, issues } };
}

/** A failure from a zod error, with dotted paths; an empty path reads `(body)`. */
export function invalidFromZod(what: string, error: z.ZodError): { error: ParseFailure } {
  return invalid(
    what,
    toIssues(error.issues).map((issue) => ({ path: issue.path || '(body)', message: issue.message })),
  );
}

/**
 * Validates what a parser built against the Signal schema, so nothing malformed ever leaves a
 * parser; a problem names the signal (`signals.2.summary`).
 */
export function checkedSignals(what: string, signals: readonly unknown[]): ParseResult {
  const valid: Signal[] = [];
  const issues: Issue[] = [];
  signals.forEach((candidate, index) => {
    const result = signalSchema.safeParse(candidate);
    if (result.success) valid.push(result.data);
    else {
      for (const issue of toIssues(result.error.issues)) {
        issues.push({
          path: `signals.${index}${issue.path ? `.${issue.path}` : ''}`,
          message: issue.message,
        });
      }
    }
  });
  return issues.length > 0 ? invalid(what, issues) : { ok: valid };
}

/** Milliseconds since the epoch of an RFC 3339 / ISO 8601 time, or undefined when it is not one. */
export function parseTime(value: unknown): number | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > 64) return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) && ms >= 0 ? Math.trunc(ms) : undefined;
}
