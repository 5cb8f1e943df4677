import type { Writable } from 'node:stream';

/** What a CLI command may touch: its streams and environment. Commands never call process.exit. */
export interface CliIo {
  stdout: Writable;
  stderr: Writable;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  /** Aborts when the process receives SIGINT/SIGTERM; long-running commands stop on it. */
  signal: AbortSignal;
}

/**
 * A CLI command: parses its own argv (everything after the command words) and resolves to an
 * exit code — 0 ok, 1 a check failed, 2 bad usage or bad input (one line per problem on stderr).
 */
export type Command = (argv: string[], io: CliIo) => Promise<number>;

/** Thrown by argument parsing for bad usage; the dispatcher prints it and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
