import type { Logger } from '../shared/logger.js';

/**
 * Teardown steps run in reverse order of registration. `run()` is idempotent (a second call
 * returns the first call's promise), runs every step even when one fails, and gives up on
 * steps still pending when `timeoutMs` has passed, reporting whether it finished in time.
 */
export class CleanupStack {
  readonly #steps: Array<{ name: string; close: () => Promise<void> | void }> = [];
  #running: Promise<boolean> | undefined;

  constructor(private readonly logger: Logger) {}

  push(name: string, close: () => Promise<void> | void): void {
    this.#steps.push({ name, close });
  }

  run(timeoutMs: number): Promise<boolean> {
    this.#running ??= this.#runAll(timeoutMs);
    return this.#running;
  }

  async #runAll(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    let inTime = true;
    for (const step of this.#steps.reverse()) {
      const remaining = Math.max(deadline - Date.now(), 1);
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        Promise.resolve()
          .then(step.close)
          .then(
            () => 'done' as const,
            (error: unknown) => {
              this.logger.error({ err: error, step: step.name }, 'cleanup step failed');
              return 'failed' as const;
            },
          ),
        new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), remaining);
        }),
      ]);
      clearTimeout(timer);
      if (outcome === 'timeout') {
        inTime = false;
        this.logger.warn({ step: step.name }, 'cleanup step did not finish before the shutdown deadline');
      }
    }
    return inTime;
  }
}
