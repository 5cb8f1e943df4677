import { Queue } from 'bullmq';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { gitPoller } from '../../../src/ingest/pollers/git/git-poller.js';
import { MemoryPollStateStore, RedisPollStateStore } from '../../../src/ingest/pollers/poll-state-store.js';
import type { JsonValue, Poller } from '../../../src/ingest/pollers/poller.js';
import { POLL_QUEUE, pollerStage, runPoll, schedulePollers } from '../../../src/ingest/pollers/run-poll.js';
import { RecordingSink } from '../../../src/ingest/recording-sink.js';
import { createRedisConnection } from '../../../src/integrations/redis.js';
import { startStageWorker } from '../../../src/loop/stage.js';
import { silentLogger } from '../../../src/shared/logger.js';
import { testPrefix } from '../../kit/prefix.js';
import { pollerWorld, type PollerWorld } from './poller-kit.js';

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

function checkoutGit(world: PollerWorld): Poller<JsonValue> {
  const checkout = world.sim.world.services().find((service) => service.name === 'checkout');
  return gitPoller({
    repos: [{ name: 'shop/checkout', path: checkout?.repoPath ?? '', services: ['checkout'] }],
  });
}

describe('runPoll', () => {
  it('saves the next state only after the sink took the signals; a retried run gives the same signals', async () => {
    const world = await pollerWorld();
    cleanup.push(() => world.close());
    const poller = checkoutGit(world);
    const states = new MemoryPollStateStore();
    const sink = new RecordingSink();
    const dependencies = {
      graph: world.graph,
      sink,
      states,
      clock: world.context.clock,
      logger: silentLogger(),
    };
    expect(await runPoll(poller, dependencies)).toMatchObject({ signals: 0, saved: true });
    expect((await states.load('git')).version).toBe(1);

    await world.at(90);
    sink.failNext();
    await expect(runPoll(poller, dependencies)).rejects.toThrow(/told to fail/);
    expect((await states.load('git')).version).toBe(1);
    const retried = await runPoll(poller, dependencies);
    expect(retried).toMatchObject({ signals: 1, accepted: 1, saved: true });
    expect(sink.signals.map((signal) => signal.attributes.sha)).toEqual([world.deploys[1]?.sha]);
    expect(sink.batches[0]?.context.channel).toBe('poll/git');
    expect(await runPoll(poller, dependencies)).toMatchObject({ signals: 0 });
  });
});

describe('poll jobs on BullMQ with Redis state', () => {
  it('the Redis state store is a compare-and-set on the version', async () => {
    const connection = createRedisConnection({ url: inject('redisUrl') }, 'client', silentLogger());
    cleanup.push(() => connection.disconnect());
    await connection.connect();
    const store = new RedisPollStateStore(connection, testPrefix(import.meta.filename));
    expect(await store.load('x')).toEqual({ version: 0, state: undefined });
    expect(await store.save('x', 0, { a: 1 })).toBe(true);
    expect(await store.save('x', 0, { a: 2 })).toBe(false);
    expect(await store.load('x')).toEqual({ version: 1, state: { a: 1 } });
  });

  it('a scheduled poll job runs the poller and keeps its state in Redis', async () => {
    const world = await pollerWorld();
    cleanup.push(() => world.close());
    await world.at(90);
    const url = inject('redisUrl');
    const prefix = testPrefix(import.meta.filename);
    const worker = createRedisConnection({ url }, 'worker', silentLogger());
    const client = createRedisConnection({ url }, 'client', silentLogger());
    cleanup.push(
      () => worker.disconnect(),
      () => client.disconnect(),
    );
    await client.connect();
    const states = new RedisPollStateStore(client, prefix);
    const sink = new RecordingSink();
    const stage = pollerStage([checkoutGit(world)], {
      graph: world.graph,
      sink,
      states,
      clock: world.context.clock,
      logger: silentLogger(),
    });
    const running = startStageWorker(stage, {
      connection: worker,
      prefix,
      concurrency: 1,
      logger: silentLogger(),
    });
    cleanup.push(() => running.close(2_000));
    const queue = new Queue(POLL_QUEUE, { connection: client, prefix });
    cleanup.push(() => queue.close());
    await schedulePollers(queue, [
      { poller: 'git', everyMs: 200 },
      { poller: 'git-old', everyMs: 1000 },
    ]);
    await schedulePollers(queue, [{ poller: 'git', everyMs: 200 }]);
    expect((await queue.getJobSchedulers()).map((scheduler) => scheduler.key)).toEqual(['poll:git']);

    const deadline = Date.now() + 10_000;
    while ((await states.load('git')).version < 2 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));
    const stored = await states.load('git');
    expect(stored.version).toBeGreaterThanOrEqual(2);
    expect(stored.state).toMatchObject({ v: 1, repos: { 'shop/checkout': { head: world.deploys[1]?.sha } } });
    // The first run is the baseline: the history is written, no signals.
    expect(sink.signals).toEqual([]);
  });
});
