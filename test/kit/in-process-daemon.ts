import { join } from 'node:path';
import { inject } from 'vitest';
import { build, type App } from '../../src/app/build.js';
import { loadConfig } from '../../src/config/index.js';
import { silentLogger } from '../../src/shared/logger.js';
import { tempDir } from './tmp.js';

/**
 * The whole daemon built in this process on a free port, silent, on the test Redis under
 * `prefix`, with the shipped policies and its data in `dir` (default a fresh temp directory,
 * also the working directory, so a `nightshift.yaml` there is read). `env` adds or overrides
 * variables. The caller starts and stops it.
 */
export function inProcessDaemon(options: {
  prefix: string;
  dir?: string;
  env?: Record<string, string>;
}): App {
  const dir = options.dir ?? tempDir();
  return build(
    loadConfig({
      env: {
        NIGHTSHIFT_PORT: '0',
        NIGHTSHIFT_DATA_DIR: dir,
        NIGHTSHIFT_LOG_LEVEL: 'silent',
        NIGHTSHIFT_QUEUE_PREFIX: options.prefix,
        NIGHTSHIFT_POLICY_DIR: join(import.meta.dirname, '../../policies'),
        REDIS_URL: inject('redisUrl'),
        ...options.env,
      },
      cwd: dir,
    }),
    { logger: silentLogger() },
  );
}
