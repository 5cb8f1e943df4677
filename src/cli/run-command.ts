import { parseArgs } from 'node:util';
import { build, type BuildDependencies } from '../app/build.js';
import { loadConfig } from '../config/index.js';
import { ConfigError } from '../shared/errors.js';
import { printConfigError } from './config-command.js';
import type { Command } from './io.js';

/**
 * `nightshift run [--config FILE]`: the daemon. Runs until the process is signalled, then stops
 * gracefully within `shutdown.timeoutMs`. `dependencies` lets tests add loop stages.
 */
export function runCommand(dependencies: BuildDependencies = {}): Command {
  return async (argv, io) => {
    const { values } = parseArgs({
      args: argv,
      options: { config: { type: 'string' } },
      allowPositionals: false,
    });
    let config;
    try {
      config = loadConfig({ env: io.env, cwd: io.cwd, ...(values.config ? { file: values.config } : {}) });
    } catch (error) {
      if (error instanceof ConfigError) {
        printConfigError(error, io);
        return 2;
      }
      throw error;
    }
    const app = build(config, dependencies);
    const stopped = new Promise<void>((resolve) => {
      if (io.signal.aborted) resolve();
      io.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    try {
      await app.start();
    } catch (error) {
      await app.stop();
      if (error instanceof ConfigError) {
        // Found only at start (invalid policies, bad poller queries): the same one line per problem.
        printConfigError(error, io);
        return 2;
      }
      app.logger.fatal({ err: error }, 'nightshift could not start');
      return 1;
    }
    await stopped;
    app.logger.info('stopping: no new work is accepted');
    const inTime = await app.stop();
    app.logger.info({ inTime }, 'stopped');
    return 0;
  };
}
