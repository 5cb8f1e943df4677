import { parseArgs } from 'node:util';
import { loadConfig, secretValues } from '../config/index.js';
import { maskSecrets } from '../shared/logger.js';
import { ConfigError } from '../shared/errors.js';
import type { CliIo, Command } from './io.js';

/** Prints each configuration problem on its own line, for exit code 2. */
export function printConfigError(error: ConfigError, io: CliIo): void {
  for (const issue of error.issues) io.stderr.write(`config: ${issue.path}: ${issue.message}\n`);
}

/** `nightshift config check [--config FILE]`: validates, then prints the effective config with secrets masked. */
export const configCheckCommand: Command = (argv, io) => {
  const { values } = parseArgs({
    args: argv,
    options: { config: { type: 'string' } },
    allowPositionals: false,
  });
  try {
    const config = loadConfig({
      env: io.env,
      cwd: io.cwd,
      ...(values.config ? { file: values.config } : {}),
    });
    io.stdout.write(`${maskSecrets(JSON.stringify(config, null, 2), secretValues(config))}\n`);
    return Promise.resolve(0);
  } catch (error) {
    if (error instanceof ConfigError) {
      printConfigError(error, io);
      return Promise.resolve(2);
    }
    throw error;
  }
};
