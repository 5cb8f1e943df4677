import type { Command } from './io.js';

/** A command as the dispatcher knows it: its words, a one-line summary and its usage text. */
export interface CommandEntry {
  /** The command words, e.g. `['config', 'check']`. */
  words: readonly string[];
  summary: string;
  usage: string;
  run: Command;
}
