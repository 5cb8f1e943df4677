/**
 * The few typed errors nightshift throws. Each carries a stable string `code`, structured `data`,
 * an optional `cause`, and whether retrying the same call may succeed (`retryable`), decided
 * where the failure happens.
 *
 * - `ConfigError`: the operator configured something wrong; retrying never helps.
 * - `ValidationError`: input from outside (a payload, a file, an API call) is malformed.
 * - `SystemError`: a dependency or the system failed; usually retryable.
 */
export class NightshiftError extends Error {
  readonly code: string;
  readonly data: Readonly<Record<string, unknown>>;
  readonly retryable: boolean;

  constructor(
    code: string,
    message: string,
    options: { cause?: unknown; data?: Record<string, unknown>; retryable?: boolean } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.data = options.data ?? {};
    this.retryable = options.retryable ?? false;
  }
}

/** One problem in a piece of input: where (`path`, dotted) and what is wrong. */
export interface Issue {
  path: string;
  message: string;
}

/** Configuration the operator must fix; `issues` holds one line per problem. */
export class ConfigError extends NightshiftError {
  readonly issues: readonly Issue[];
  constructor(issues: Issue[], options: { cause?: unknown } = {}) {
    super('config_invalid', issues.map((issue) => `${issue.path}: ${issue.message}`).join('\n'), {
      ...options,
      data: { issues },
    });
    this.issues = issues;
  }
}

/** Input from outside that does not fit its schema; never retryable as is. */
export class ValidationError extends NightshiftError {
  readonly issues: readonly Issue[];
  constructor(what: string, issues: Issue[], options: { cause?: unknown } = {}) {
    super(
      'validation_failed',
      `${what}: ${issues.map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message)).join('; ')}`,
      { ...options, data: { what, issues } },
    );
    this.issues = issues;
  }
}

/** A dependency or the system failed; `retryable` defaults to true. */
export class SystemError extends NightshiftError {
  constructor(
    code: string,
    message: string,
    options: { cause?: unknown; data?: Record<string, unknown>; retryable?: boolean } = {},
  ) {
    super(code, message, { ...options, retryable: options.retryable ?? true });
  }
}

/** Turns zod-style issues (`{path: PropertyKey[], message}`) into dotted-path issues. */
export function toIssues(
  issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>,
): Issue[] {
  return issues.map((issue) => ({
    path: issue.path.map((part) => (typeof part === 'symbol' ? part.toString() : String(part))).join('.'),
    message: issue.message,
  }));
}

/** A short, safe description of any thrown value. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
