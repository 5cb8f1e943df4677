import type { Signal } from './signal.js';
import { sinkUnavailable, type AcceptReport, type SignalSink, type SinkContext } from './sink.js';

/** One `accept` call as the recording sink saw it. */
export interface RecordedBatch {
  signals: Signal[];
  context: SinkContext;
}

/**
 * A `SignalSink` that keeps every batch in memory, for tests and the sim. It accepts everything
 * (no deduplication) until `failNext` or `failAlways` makes it reject with the same retryable
 * error a real sink gives when its queue is down; a rejected batch is not recorded.
 */
export class RecordingSink implements SignalSink {
  readonly batches: RecordedBatch[] = [];
  #failures = 0;
  #failAlways = false;

  accept(signals: readonly Signal[], context: SinkContext): Promise<AcceptReport> {
    if (this.#failAlways || this.#failures > 0) {
      if (this.#failures > 0) this.#failures -= 1;
      return Promise.reject(sinkUnavailable('the recording sink was told to fail'));
    }
    this.batches.push({ signals: structuredClone([...signals]), context: { ...context } });
    return Promise.resolve({ accepted: signals.length, deduplicated: 0 });
  }

  /** Every signal accepted so far, in order. */
  get signals(): Signal[] {
    return this.batches.flatMap((batch) => batch.signals);
  }

  /** Rejects the next `times` calls. */
  failNext(times = 1): void {
    this.#failures += times;
  }

  /** Rejects every call while `on` is true. */
  failAlways(on = true): void {
    this.#failAlways = on;
  }

  clear(): void {
    this.batches.length = 0;
  }
}
