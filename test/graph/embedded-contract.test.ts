import { EmbeddedGraphStore } from '../../src/graph/embedded/embedded-store.js';
import { silentLogger } from '../../src/shared/logger.js';
import { tempDir } from '../kit/tmp.js';
import { runGraphStoreContract } from './contract.js';

runGraphStoreContract({
  name: 'embedded',
  open: (clock) =>
    EmbeddedGraphStore.open({
      dataDir: tempDir('nightshift-graph-'),
      fsync: 'always',
      logger: silentLogger(),
      clock,
    }),
  reopen: async (store, clock) => {
    const { dataDir } = store as EmbeddedGraphStore;
    await store.close();
    return EmbeddedGraphStore.open({ dataDir, fsync: 'always', logger: silentLogger(), clock });
  },
});
