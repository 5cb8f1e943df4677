import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';

/** The structured logger every component receives; create children with `child({component})`. */
export type Logger = PinoLogger;

/** Keys whose values are never logged, wherever they appear in a log object. */
export const REDACTED_KEYS = [
  'password',
  'token',
  'apiKey',
  'api_key',
  'secret',
  'authorization',
  'cookie',
  'signingSecret',
  'botToken',
  'routingKey',
  'appKey',
];

const redactPaths = REDACTED_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`, `headers.${key}`]);

export interface LoggerOptions {
  level: string;
  /** Human-readable lines instead of JSON; for a terminal. */
  pretty?: boolean;
  /** Where lines go; defaults to stderr so stdout stays free for command output and MCP stdio. */
  destination?: DestinationStream;
  /** Raw secret values to mask if they ever appear inside a logged string. */
  secrets?: () => readonly string[];
}

/**
 * Builds the root logger: JSON lines to stderr, known secret-bearing keys redacted, and any
 * configured secret value masked inside messages. Never throws.
 */
export function createLogger(options: LoggerOptions): Logger {
  const secrets = options.secrets ?? (() => []);
  const destination = options.destination ?? pino.destination({ fd: 2, sync: false });
  return pino(
    {
      level: options.level,
      base: { name: 'nightshift' },
      redact: { paths: redactPaths, censor: '<secret>' },
      formatters: { level: (label) => ({ level: label }) },
      hooks: {
        streamWrite(line) {
          return maskSecrets(line, secrets());
        },
      },
    },
    destination,
  );
}

/** Replaces every occurrence of each secret (at least 4 chars) in `text` with `<secret>`. */
export function maskSecrets(text: string, secrets: readonly string[]): string {
  let result = text;
  for (const secret of secrets) {
    if (secret.length >= 4 && result.includes(secret)) result = result.split(secret).join('<secret>');
  }
  return result;
}

/** A logger that drops everything; for tests and library defaults. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
