import { afterEach, beforeEach, expect } from 'vitest';

/**
 * Fails any test that writes to stdout: product code logs to stderr (stdout is for command
 * output and MCP stdio), so a stray write is a bug. Tests that check command output capture it
 * through their own streams.
 */
let written: string[] = [];
const original = process.stdout.write.bind(process.stdout);

beforeEach(() => {
  written = [];
  process.stdout.write = (chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
    written.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
    return (original as (...args: unknown[]) => boolean)(chunk, ...rest);
  };
});

afterEach(() => {
  process.stdout.write = original;
  expect(written, 'the test wrote to stdout').toEqual([]);
});
