import { graphConfig } from '../app/graph-config.js';
import { loadConfig } from '../config/index.js';
import { openGraphStore } from '../graph/factory.js';
import type { GraphStore } from '../graph/store.js';
import { systemClock } from '../shared/clock.js';
import { ConfigError } from '../shared/errors.js';
import { silentLogger } from '../shared/logger.js';
import { printConfigError } from './config-command.js';
import type { CliIo, Command } from './io.js';

/**
 * Runs a command that reads the graph the configuration names (environment, `NIGHTSHIFT_CONFIG`
 * or ./nightshift.yaml). A bad configuration exits 2 with one line per problem. The embedded
 * store is refused while a daemon holds its data directory.
 */
export function withConfiguredGraph(command: (open: () => Promise<GraphStore>) => Command): Command {
  return async (argv, io: CliIo) => {
    try {
      const config = loadConfig({ env: io.env, cwd: io.cwd });
      const open = (): Promise<GraphStore> =>
        openGraphStore(graphConfig(config), { logger: silentLogger(), clock: systemClock });
      return await command(open)(argv, io);
    } catch (error) {
      if (error instanceof ConfigError) {
        printConfigError(error, io);
        return 2;
      }
      throw error;
    }
  };
}
