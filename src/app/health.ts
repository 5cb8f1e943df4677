/** The state of one dependency. `degraded` works with reduced function; `down` does not work. */
export type DependencyState = 'ok' | 'degraded' | 'down';

export interface HealthCheck {
  /** A required dependency that is `down` makes the whole service not ready (503). */
  required: boolean;
  /** Resolves the current state; must not throw and should answer within a second. */
  check(): Promise<DependencyState>;
}

export interface HealthReport {
  status: 'ready' | 'not_ready';
  dependencies: Record<string, { state: DependencyState; required: boolean }>;
}

/** Named dependency checks, read by `/readyz`. */
export class HealthRegistry {
  readonly #checks = new Map<string, HealthCheck>();

  register(name: string, check: HealthCheck): void {
    this.#checks.set(name, check);
  }

  /** Runs every check at once; never throws (a failing check reads as `down`). */
  async report(): Promise<HealthReport> {
    const entries = await Promise.all(
      [...this.#checks].map(async ([name, check]) => {
        const state = await check.check().catch((): DependencyState => 'down');
        return [name, { state, required: check.required }] as const;
      }),
    );
    const dependencies = Object.fromEntries(entries);
    const ready = entries.every(([, entry]) => !(entry.required && entry.state === 'down'));
    return { status: ready ? 'ready' : 'not_ready', dependencies };
  }
}
