import type { Clock } from '../shared/clock.js';

/** A callback due at a sim time; it may return a promise, which the clock awaits. */
export type SimTask = (now: number) => void | Promise<void>;

interface Scheduled {
  at: number;
  order: number;
  task: SimTask;
}

/** How a SimClock starts. */
export interface SimClockOptions {
  /** Sim epoch ms at creation. */
  startMs: number;
  /** Sim ms per wall ms while running (the scenario's `speed`). Default 1. */
  speed?: number;
  /** Wall ms between steps while running. Default 50. */
  stepWallMs?: number;
  /** Called when a task throws; the clock goes on. */
  onError?: (error: unknown) => void;
}

/**
 * Sim time: a discrete-event clock. `now()` only moves forward, when the clock runs tasks up
 * to a time: `advanceTo`/`advance` (tests step it by hand, no wall-clock waiting) or `start()`
 * (a wall timer steps it at `speed` sim ms per wall ms). Tasks due at the same time run in the
 * order they were scheduled, each seeing `now()` equal to its own time; a task's returned
 * promise is awaited before the next one runs, so the order is the same at any speed.
 */
export class SimClock implements Clock {
  #now: number;
  #speed: number;
  readonly #stepWallMs: number;
  readonly #onError: (error: unknown) => void;
  #queue: Scheduled[] = [];
  #order = 0;
  #timer: NodeJS.Timeout | undefined;
  #chain: Promise<void> = Promise.resolve();
  #wallAnchor = 0;
  #simAnchor = 0;

  constructor(options: SimClockOptions) {
    this.#now = options.startMs;
    this.#speed = options.speed ?? 1;
    this.#stepWallMs = options.stepWallMs ?? 50;
    this.#onError = options.onError ?? (() => undefined);
  }

  /** Sim epoch ms now. */
  now(): number {
    return this.#now;
  }

  get speed(): number {
    return this.#speed;
  }

  get running(): boolean {
    return this.#timer !== undefined;
  }

  /** Runs `task` once sim time reaches `simMs` (at once, on the next step, if it is past). Returns a cancel function. */
  at(simMs: number, task: SimTask): () => void {
    const entry: Scheduled = { at: Math.max(simMs, this.#now), order: this.#order++, task };
    const index = this.#queue.findIndex((other) => other.at > entry.at);
    if (index === -1) this.#queue.push(entry);
    else this.#queue.splice(index, 0, entry);
    return () => {
      this.#queue = this.#queue.filter((other) => other !== entry);
    };
  }

  /** Runs `task` every `intervalMs` from `firstMs`; returns a cancel function. */
  every(intervalMs: number, task: SimTask, firstMs = this.#now + intervalMs): () => void {
    let cancelled = false;
    let cancelNext = (): void => undefined;
    const schedule = (at: number): void => {
      cancelNext = this.at(at, async (now) => {
        if (cancelled) return;
        schedule(at + intervalMs);
        await task(now);
      });
    };
    schedule(firstMs);
    return () => {
      cancelled = true;
      cancelNext();
    };
  }

  /** Runs every task due up to `simMs` in order, then sets now to `simMs`. Calls are serialized. */
  advanceTo(simMs: number): Promise<void> {
    this.#chain = this.#chain.then(() => this.#run(simMs));
    return this.#chain;
  }

  /** advanceTo(now + ms). */
  advance(ms: number): Promise<void> {
    this.#chain = this.#chain.then(() => this.#run(this.#now + ms));
    return this.#chain;
  }

  async #run(target: number): Promise<void> {
    for (;;) {
      const next = this.#queue[0];
      if (!next || next.at > target) break;
      this.#queue.shift();
      if (next.at > this.#now) this.#now = next.at;
      try {
        await next.task(this.#now);
      } catch (error) {
        this.#onError(error);
      }
    }
    if (target > this.#now) this.#now = target;
  }

  /** Starts stepping with the wall clock at `speed` (optionally changing it). Safe to call twice. */
  start(speed = this.#speed): void {
    this.#speed = speed;
    if (this.#timer) return;
    this.#wallAnchor = Date.now();
    this.#simAnchor = this.#now;
    let busy = false;
    this.#timer = setInterval(() => {
      if (busy) return;
      busy = true;
      const target = this.#simAnchor + (Date.now() - this.#wallAnchor) * this.#speed;
      void this.advanceTo(Math.floor(target)).finally(() => {
        busy = false;
      });
    }, this.#stepWallMs);
    this.#timer.unref();
  }

  /** Stops the wall stepping; resolves once the step in progress finished. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#chain;
  }
}
