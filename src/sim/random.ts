/**
 * Deterministic randomness for the sim. Every consumer draws from its own named stream, derived
 * from (seed, stream name) alone, so adding a stream never shifts the numbers of another; and
 * `noise(stream, index)` gives random access (the value at a time bucket without drawing the
 * ones before it), which keeps series pure functions of time.
 */

/** 32-bit FNV-1a of a string. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** The murmur3 finalizer: a good 32-bit mix. */
function mix32(value: number): number {
  let hash = value >>> 0;
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/** A sequential generator (mulberry32) with a few helpers. Not for cryptography. */
export class RandomStream {
  #state: number;

  constructor(seed32: number) {
    this.#state = seed32 >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let value = this.#state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }

  /** `length` characters from `alphabet`. */
  text(length: number, alphabet = 'bcdfghjklmnpqrstvwxz2456789'): string {
    let result = '';
    for (let index = 0; index < length; index++)
      result += alphabet[Math.floor(this.next() * alphabet.length)];
    return result;
  }
}

/** The seeded source of every stream of one world. */
export class SimRandom {
  readonly seed: number;
  readonly #streams = new Map<string, RandomStream>();
  readonly #streamHashes = new Map<string, number>();

  constructor(seed: number) {
    this.seed = seed;
  }

  #hash(stream: string): number {
    let hash = this.#streamHashes.get(stream);
    if (hash === undefined) {
      hash = mix32(fnv1a(`${this.seed}\u0000${stream}`));
      this.#streamHashes.set(stream, hash);
    }
    return hash;
  }

  /** The sequential stream of this name (the same object on every call). */
  stream(name: string): RandomStream {
    let stream = this.#streams.get(name);
    if (!stream) {
      stream = new RandomStream(this.#hash(name));
      this.#streams.set(name, stream);
    }
    return stream;
  }

  /** A float in [0, 1) for (stream, index): the same arguments always give the same value. */
  noise(stream: string, index: number): number {
    const hash = mix32(
      this.#hash(stream) ^ Math.imul(index | 0, 0x9e3779b1) ^ Math.imul((index / 4294967296) | 0, 0x85ebca77),
    );
    return hash / 4294967296;
  }

  /** Noise centred on 0 in [-1, 1). */
  jitter(stream: string, index: number): number {
    return this.noise(stream, index) * 2 - 1;
  }
}
