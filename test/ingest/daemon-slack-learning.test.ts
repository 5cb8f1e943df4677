import { describe, expect, inject, it } from 'vitest';
import { serviceId } from '../../src/graph/ids.js';
import { waitFor } from '../kit/daemon.js';
import { testPrefix } from '../kit/prefix.js';
import { tempDir } from '../kit/tmp.js';
import { startPollingDaemon } from './polling-daemon-kit.js';

const prefix = testPrefix(import.meta.filename);

describe('the daemon learning from Slack messages', () => {
  it('records a dependency stated in a channel as a tentative edge', async () => {
    const daemon = await startPollingDaemon({
      redisUrl: inject('redisUrl'),
      prefix,
      dataDir: tempDir(),
      slack: true,
      env: {
        NIGHTSHIFT_SLACK_LEARN_FROM_MESSAGES: 'true',
        NIGHTSHIFT_SLACK_WORKSPACE_URL: 'https://shop.slack.com',
      },
    });
    try {
      const vendors = daemon.sim.vendors;
      if (!vendors) throw new Error('the sim started without its vendors');
      const graph = daemon.app.graph();
      const shipping = serviceId('shipping');
      const recommendation = serviceId('recommendation');
      await waitFor(async () => (await graph.get(recommendation)) !== null, 20_000);
      const needs = async (): Promise<Array<[string, number | undefined]>> =>
        (await graph.neighbors(shipping, { kinds: ['DEPENDS_ON'], direction: 'out' })).map((reached) => [
          reached.entity.id,
          reached.path[0]?.confidence,
        ]);
      const stated = async (): Promise<Array<[string, number | undefined]>> =>
        (await needs()).filter(([id]) => id === recommendation);
      expect(await stated()).toEqual([]);

      await vendors.slack.say({
        channel: '#shop',
        user: 'bob',
        text: 'fyi shipping depends on recommendation since the last release',
      });
      await waitFor(async () => (await stated()).length > 0, 20_000).catch(() => {
        throw new Error(`no stated dependency was recorded; ${daemon.problems()}`);
      });
      // Stated in a message: tentative (0.3), as docs/ingest.md describes.
      expect(await stated()).toEqual([[recommendation, 0.3]]);
    } finally {
      await daemon.stop();
    }
  });
});
