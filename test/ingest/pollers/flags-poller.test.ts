import { afterEach, describe, expect, it } from 'vitest';
import { flagId, serviceId } from '../../../src/graph/ids.js';
import { flagsPoller } from '../../../src/ingest/pollers/flags/flags-poller.js';
import { pollerWorld, pollOnce, type PollerWorld } from './poller-kit.js';

const worlds: PollerWorld[] = [];
afterEach(async () => {
  await Promise.all(worlds.splice(0).map((world) => world.close()));
});

describe('the flag poller', () => {
  it('records flags and who reads them, then turns a flip into a change signal with both values', async () => {
    const world = await pollerWorld({});
    worlds.push(world);
    const poller = flagsPoller({ url: world.sim.flags.url, provider: 'sim' });

    const first = await pollOnce(poller, poller.initialState(), world.context);
    expect(first.signals).toEqual([]);
    const flag = await world.graph.get(flagId('sim', 'new-pricing'));
    expect(flag).toMatchObject({
      kind: 'FeatureFlag',
      properties: { key: 'new-pricing', value: false, service: 'checkout' },
    });
    const reads = await world.graph.neighbors(serviceId('checkout'), {
      kinds: ['DEPENDS_ON'],
      direction: 'out',
    });
    expect(reads.map((reached) => reached.entity.id)).toContain(flagId('sim', 'new-pricing'));

    const again = await pollOnce(poller, first.nextState, world.context);
    expect(again.signals).toEqual([]);

    world.sim.world.flags.set('new-pricing', true, { actor: 'release-bot' });
    const flipped = await pollOnce(poller, again.nextState, world.context);
    expect(flipped.signals).toHaveLength(1);
    expect(flipped.signals[0]).toMatchObject({
      source: 'flags',
      kind: 'change',
      fingerprint: 'flag:sim/new-pricing',
      attributes: { changeType: 'flag-flip', key: 'new-pricing', value: true, previous: false },
      entities: [
        { kind: 'FeatureFlag', id: flagId('sim', 'new-pricing') },
        { kind: 'Service', id: serviceId('checkout') },
      ],
    });
    // The same poll repeated later from the same state gives the same signal id, never a second one.
    await world.at(30);
    const repeated = await pollOnce(poller, again.nextState, world.context);
    expect(repeated.signals.map((signal) => signal.id)).toEqual(flipped.signals.map((signal) => signal.id));
  });
});
