import { ValidationError } from '../../shared/errors.js';
import type { EstateFlag } from '../scenario/estate-schema.js';
import type { SimFlag, SimFlags, SimFlagValue } from './types.js';

/** A flag change, as the store reports it to the world. */
export interface FlagChange {
  flag: SimFlag;
  previous: SimFlagValue;
  actor: string;
  via: string;
}

/** The flag provider's store: values and their history (for flag regressions). */
export class FlagStore implements SimFlags {
  readonly #flags = new Map<string, SimFlag>();
  readonly #now: () => number;
  readonly #onChange: (change: FlagChange) => void;

  constructor(flags: readonly EstateFlag[], now: () => number, onChange: (change: FlagChange) => void) {
    this.#now = now;
    this.#onChange = onChange;
    for (const flag of flags) {
      this.#flags.set(flag.key, {
        key: flag.key,
        ...(flag.service ? { service: flag.service } : {}),
        value: flag.value,
        updatedAt: 0,
      });
    }
  }

  get(key: string): SimFlag | undefined {
    const flag = this.#flags.get(key);
    return flag ? { ...flag } : undefined;
  }

  list(): readonly SimFlag[] {
    return [...this.#flags.values()].map((flag) => ({ ...flag })).sort((a, b) => a.key.localeCompare(b.key));
  }

  set(key: string, value: SimFlagValue, options: { actor?: string; via?: string } = {}): SimFlag {
    const flag = this.#flags.get(key);
    if (!flag) throw new ValidationError('flag', [{ path: 'key', message: `unknown flag "${key}"` }]);
    if (typeof value !== typeof flag.value) {
      throw new ValidationError('flag', [
        { path: 'value', message: `flag "${key}" holds a ${typeof flag.value}, not a ${typeof value}` },
      ]);
    }
    const previous = flag.value;
    const updated: SimFlag = { ...flag, value, updatedAt: this.#now() };
    this.#flags.set(key, updated);
    this.#onChange({
      flag: { ...updated },
      previous,
      actor: options.actor ?? 'unknown',
      via: options.via ?? 'flags',
    });
    return { ...updated };
  }
}
