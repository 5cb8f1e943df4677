import { inspect } from 'node:util';

const MASK = '<secret>';

/**
 * A value that must never be printed: `toString`, `toJSON` and `util.inspect` all yield
 * `"<secret>"`. Read the value only where it is handed to a client, with `reveal()`.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  /** The raw value, for the one call that needs it. */
  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return MASK;
  }

  toJSON(): string {
    return MASK;
  }

  [inspect.custom](): string {
    return MASK;
  }
}

/** True for a `Secret` instance. */
export function isSecret(value: unknown): value is Secret {
  return value instanceof Secret;
}
