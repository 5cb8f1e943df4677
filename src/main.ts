#!/usr/bin/env node
import { runCli } from './cli/index.js';

/**
 * argv → app. The only place that exits the process or handles signals: the first SIGTERM or
 * SIGINT asks the running command to stop gracefully; a second one forces exit.
 */
const controller = new AbortController();
let signals = 0;
const onSignal = (signal: NodeJS.Signals): void => {
  signals += 1;
  if (signals === 1) {
    controller.abort(new Error(`received ${signal}`));
    return;
  }
  process.stderr.write(`nightshift: second ${signal}; exiting now\n`);
  process.exit(130);
};
process.on('SIGTERM', onSignal);
process.on('SIGINT', onSignal);

runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
  signal: controller.signal,
}).then(
  (code) => {
    process.stdout.write('', () => process.exit(code));
  },
  (error: unknown) => {
    process.stderr.write(
      `nightshift: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
