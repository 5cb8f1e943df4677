import { describe, expect, it } from 'vitest';
import { serviceId } from '../../../src/graph/ids.js';
import { datadogConfiguration } from '../../../src/ingest/pollers/datadog/datadog-api.js';
import { logPatternPoller, mineLines } from '../../../src/ingest/pollers/logs/log-pattern-poller.js';
import { datadogLogSource } from '../../../src/ingest/pollers/logs/log-source.js';
import { Secret } from '../../../src/shared/secret.js';
import { pollerWorld, pollOnce, START } from './poller-kit.js';

describe('log pattern poller against the sim', () => {
  it('blames the templates that first appear after the checkout deploy on that deploy, once', async () => {
    const world = await pollerWorld({ vendors: true });
    try {
      const configuration = datadogConfiguration({
        baseUrl: world.sim.vendors?.urls.datadog ?? '',
        apiKey: new Secret('api'),
        appKey: new Secret('app'),
      });
      const poller = logPatternPoller({
        services: ['checkout', 'catalog', 'cart'],
        source: datadogLogSource(configuration),
      });
      await world.at(45);
      const first = await pollOnce(poller, poller.initialState(), world.context);
      expect(first.signals).toEqual([]);
      const checkoutBefore = first.nextState.services.checkout;
      expect(checkoutBefore?.templates.length).toBeGreaterThan(0);
      expect(checkoutBefore?.watchingSince).toBeLessThan(START + 10_000);

      await world.at(120);
      const second = await pollOnce(poller, first.nextState, world.context);
      const deployKey = (
        await world.graph.neighbors(serviceId('checkout'), {
          direction: 'in',
          depth: 2,
          entityKinds: ['Deploy'],
        })
      )
        .map((reached) => reached.entity)
        .find((entity) => entity.properties.image === 'shop/checkout:3.1.0')?.id;
      expect(deployKey).toBeDefined();
      expect(second.signals.length).toBeGreaterThanOrEqual(2);
      for (const signal of second.signals) {
        expect(signal).toMatchObject({ source: 'logs', kind: 'log_pattern' });
        expect(signal.attributes).toMatchObject({
          service: 'checkout',
          deployId: deployKey,
          image: 'shop/checkout:3.1.0',
        });
        expect(signal.entities.map((ref) => ref.id)).toEqual([serviceId('checkout'), deployKey]);
        expect(signal.observedAt).toBeGreaterThan(START + 60_000);
      }
      const examples = second.signals.map((signal) => JSON.stringify(signal.attributes.example));
      expect(examples.some((line) => line.includes('payment token missing'))).toBe(true);
      expect(examples.some((line) => line.includes('TypeError'))).toBe(true);
      expect(second.signals.some((signal) => signal.severity === 'error')).toBe(true);
      // The access-log template existed before the deploy and is not blamed; its count grows.
      const access = (state: typeof checkoutBefore) =>
        state?.templates.find((template) => template.template.startsWith('request completed'));
      expect(access(second.nextState.services.checkout)?.deployId).toBeUndefined();
      expect(access(second.nextState.services.checkout)?.id).toBe(access(checkoutBefore)?.id);
      expect(access(second.nextState.services.checkout)?.count).toBeGreaterThan(
        access(checkoutBefore)?.count ?? 0,
      );

      await world.at(150);
      const third = await pollOnce(poller, second.nextState, world.context);
      expect(third.signals).toEqual([]);
      const flagged =
        third.nextState.services.checkout?.templates.filter((template) => template.deployId) ?? [];
      expect(flagged.length).toBe(second.signals.length);
    } finally {
      await world.close();
    }
  });
});

describe('mineLines', () => {
  it('carries template ids and counts through the stored state', () => {
    const lines = (at: number) => [
      { at, message: 'user 42 logged in from 10.0.0.1' },
      { at: at + 1, message: 'user 7 logged in from 10.0.0.2' },
      { at: at + 2, message: 'cache miss for key "abc"' },
    ];
    const once = mineLines([], lines(1_000));
    expect(once.map((template) => template.count).sort()).toEqual([1, 2]);
    const stored = JSON.parse(JSON.stringify(once)) as typeof once;
    const twice = mineLines(stored, lines(2_000));
    expect(twice.map((template) => template.id).sort()).toEqual(once.map((template) => template.id).sort());
    expect(twice.map((template) => template.count).sort()).toEqual([2, 4]);
    expect(twice.every((template) => template.firstSeen < 2_000 && template.lastSeen >= 2_000)).toBe(true);
  });
});
