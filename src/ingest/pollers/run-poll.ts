import type { Queue } from 'bullmq';
import { z } from 'zod';
import type { GraphStore } from '../../graph/store.js';
import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/logger.js';
import type { StageDefinition } from '../../loop/stage.js';
import type { SignalSink } from '../sink.js';
import { applyGraphWrites, type JsonValue, type Poller } from './poller.js';
import type { PollStateStore } from './poll-state-store.js';

/** What one run of a poller did. */
export interface PollRunReport {
  poller: string;
  signals: number;
  accepted: number;
  deduplicated: number;
  graphWrites: number;
  /** False when another run saved a newer state first (this run's output was still stored). */
  saved: boolean;
}

/** What running pollers needs. */
export interface PollRunDependencies {
  graph: GraphStore;
  sink: SignalSink;
  states: PollStateStore;
  clock: Clock;
  logger: Logger;
}

/**
 * Runs one poll: loads the state, polls, applies the graph writes, hands the signals to the sink,
 * and only then saves the next state. A failure anywhere leaves the old state, so the next run
 * polls the same ground again; signal ids are deterministic and graph writes idempotent, so
 * nothing is doubled.
 */
export async function runPoll(
  poller: Poller<JsonValue>,
  dependencies: PollRunDependencies,
  signal?: AbortSignal,
): Promise<PollRunReport> {
  const logger = dependencies.logger.child({ component: 'poller', poller: poller.name });
  const stored = await dependencies.states.load(poller.name);
  const state = stored.state === undefined ? poller.initialState() : poller.readState(stored.state);
  const result = await poller.poll(state, {
    graph: dependencies.graph,
    clock: dependencies.clock,
    logger,
    ...(signal ? { signal } : {}),
  });
  let graphWrites = 0;
  if (result.graphWrites) {
    await applyGraphWrites(dependencies.graph, result.graphWrites);
    graphWrites =
      result.graphWrites.entities.length +
      result.graphWrites.relationships.length +
      result.graphWrites.events.length;
  }
  const report =
    result.signals.length > 0
      ? await dependencies.sink.accept(result.signals, { channel: `poll/${poller.name}` })
      : { accepted: 0, deduplicated: 0 };
  const saved = await dependencies.states.save(poller.name, stored.version, result.nextState);
  if (!saved) logger.warn('another run saved this poller state first; keeping theirs');
  if (result.signals.length > 0 || graphWrites > 0)
    logger.info({ signals: result.signals.length, ...report, graphWrites }, 'poll done');
  return { poller: poller.name, signals: result.signals.length, ...report, graphWrites, saved };
}

/** The queue poll jobs run on. */
export const POLL_QUEUE = 'poll';

/** A poll job: which poller to run. */
export const pollJobSchema = z.strictObject({ v: z.literal(1), poller: z.string().min(1).max(100) });
export type PollJob = z.infer<typeof pollJobSchema>;

/**
 * The loop stage that runs poll jobs (for `startStageWorker`). A job naming an unknown poller
 * fails for good (a config change removed it; its scheduler should go too).
 */
export function pollerStage(
  pollers: ReadonlyArray<Poller<JsonValue>>,
  dependencies: PollRunDependencies,
): StageDefinition<typeof pollJobSchema> {
  const byName = new Map(pollers.map((poller) => [poller.name, poller]));
  return {
    name: POLL_QUEUE,
    payload: pollJobSchema,
    async handle(payload, context) {
      const poller = byName.get(payload.poller);
      if (!poller) throw new Error(`no poller named "${payload.poller}" is configured`);
      return runPoll(poller, { ...dependencies, logger: context.logger }, context.signal);
    },
  };
}

/** How often one poller runs. */
export interface PollSchedule {
  poller: string;
  everyMs: number;
}

/**
 * Creates or updates one BullMQ job scheduler per poller (`poll:<name>`, every `everyMs`) and removes
 * schedulers of pollers no longer listed. Idempotent; safe to call from every replica at start.
 */
export async function schedulePollers(queue: Queue, schedules: readonly PollSchedule[]): Promise<void> {
  const wanted = new Set(schedules.map((schedule) => `poll:${schedule.poller}`));
  for (const schedule of schedules) {
    await queue.upsertJobScheduler(
      `poll:${schedule.poller}`,
      { every: schedule.everyMs },
      {
        name: `poll.${schedule.poller}`,
        data: { v: 1, poller: schedule.poller } satisfies PollJob,
        opts: { attempts: 1, removeOnComplete: 100, removeOnFail: 100 },
      },
    );
  }
  for (const scheduler of await queue.getJobSchedulers(0, -1)) {
    const key = scheduler.key;
    if (key.startsWith('poll:') && !wanted.has(key)) await queue.removeJobScheduler(key);
  }
}
