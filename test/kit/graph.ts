import { EmbeddedGraphStore } from '../../src/graph/embedded/embedded-store.js';
import { systemClock, type Clock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { tempDir } from './tmp.js';

/**
 * An embedded graph for a test: in `dataDir` (default a fresh temp directory removed after the
 * test), on `clock` (default the system clock), never fsyncing. The caller closes it.
 */
export function openTestGraph(
  options: { dataDir?: string; clock?: Clock } = {},
): Promise<EmbeddedGraphStore> {
  return EmbeddedGraphStore.open({
    dataDir: options.dataDir ?? tempDir(),
    fsync: 'never',
    logger: silentLogger(),
    clock: options.clock ?? systemClock,
  });
}
