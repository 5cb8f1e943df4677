import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/kit/tmp.js';
import { freePort } from '../../test/kit/ports.js';
import { ManualClock } from '../shared/clock.js';
import { ConfigError } from '../shared/errors.js';
import { silentLogger } from '../shared/logger.js';
import { openGraphStore } from './factory.js';

const dependencies = { logger: silentLogger(), clock: new ManualClock() };

describe('openGraphStore', () => {
  it('opens the embedded store in the configured directory', async () => {
    const dataDir = tempDir();
    const store = await openGraphStore({ backend: 'embedded', dataDir, fsync: 'always' }, dependencies);
    try {
      expect(store.backend).toBe('embedded');
      expect(await store.health()).toBe('ok');
    } finally {
      await store.close();
    }
  });

  it('refuses neo4j without a URI, saying how to fix it', async () => {
    const error = await openGraphStore(
      { backend: 'neo4j', dataDir: '', fsync: 'interval' },
      dependencies,
    ).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain('NEO4J_URI');
  });

  it('returns a Neo4j store that is down, never the embedded one, when Neo4j is unreachable', async () => {
    const store = await openGraphStore(
      {
        backend: 'neo4j',
        dataDir: tempDir(),
        fsync: 'interval',
        neo4j: { uri: `bolt://127.0.0.1:${await freePort()}`, operationTimeoutMs: 300 },
      },
      dependencies,
    );
    try {
      expect(store.backend).toBe('neo4j');
      expect(await store.health()).toBe('down');
      await expect(store.stats()).rejects.toMatchObject({ code: 'graph_unavailable' });
    } finally {
      await store.close();
    }
  });
});
