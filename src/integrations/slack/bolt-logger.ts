import { LogLevel, type Logger as BoltLogger } from '@slack/bolt';
import type { Logger } from '../../shared/logger.js';

function line(parts: unknown[]): string {
  return parts.map((part) => (part instanceof Error ? part.message : String(part))).join(' ');
}

/**
 * Bolt's logger interface over a pino logger, so Bolt never writes to stdout. Bolt's debug
 * output can carry request bodies, so it stays at debug level.
 */
export function boltLogger(logger: Logger): BoltLogger {
  let level = LogLevel.INFO;
  return {
    debug: (...message: unknown[]) => logger.debug(line(message)),
    info: (...message: unknown[]) => logger.info(line(message)),
    warn: (...message: unknown[]) => logger.warn(line(message)),
    error: (...message: unknown[]) => logger.error(line(message)),
    setLevel: (next: LogLevel) => {
      level = next;
    },
    getLevel: () => level,
    setName: () => undefined,
  };
}
