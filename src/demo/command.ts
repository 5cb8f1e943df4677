import { Redis } from 'ioredis';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/index.js';
import { runScenario } from '../evals/run-scenario.js';
import { UsageError, type Command } from '../cli/io.js';
import { ConfigError, ValidationError } from '../shared/errors.js';
import { loadScenario } from '../sim/scenario/load.js';
import { storyLines } from './story.js';

export const DEMO_USAGE = 'nightshift demo [--scenario NAME|PATH] [--speed N]';

/** True when something answers PING at `url` within `timeoutMs`. */
export async function redisAnswers(url: string, timeoutMs = 2_000): Promise<boolean> {
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: timeoutMs,
    retryStrategy: () => null,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

/**
 * `nightshift demo`: runs a scenario (default `bad-deploy-checkout` on the `shop` estate) in the
 * simulated estate with the whole daemon against it, and tells the story live: signals, the
 * incident, hypotheses with confidence bars, the policy decision, the on-call's approval, the
 * action, verification and the lesson stored. Needs only Redis (`REDIS_URL`, default
 * 127.0.0.1:6379); says so and exits 1 when none answers. Exit 0 when the story ends with the
 * fault mitigated or rightly escalated, 1 otherwise.
 */
export const demoCommand: Command = async (argv, io) => {
  const { values } = parseArgs({
    args: argv,
    options: { scenario: { type: 'string' }, speed: { type: 'string' } },
    allowPositionals: false,
  });
  const speed = values.speed === undefined ? 30 : Number(values.speed);
  if (!Number.isFinite(speed) || speed <= 0 || speed > 600)
    throw new UsageError(`--speed must be a number in (0, 600], got "${values.speed}"`);
  let redisUrl: string;
  try {
    redisUrl = loadConfig({ env: io.env, cwd: io.cwd }).redis.url;
  } catch (error) {
    if (error instanceof ConfigError) {
      for (const issue of error.issues) io.stderr.write(`config: ${issue.path}: ${issue.message}\n`);
      return 2;
    }
    throw error;
  }
  if (!(await redisAnswers(redisUrl))) {
    io.stderr.write(
      `nightshift demo needs Redis and none answers at ${redisUrl}.\n` +
        'Start one (e.g. `redis-server --save "" --appendonly no`, or `docker run -p 6379:6379 redis:7`) or set REDIS_URL.\n',
    );
    return 1;
  }
  let scenario;
  try {
    scenario = loadScenario(values.scenario ?? 'bad-deploy-checkout');
  } catch (error) {
    if (error instanceof ValidationError) {
      for (const issue of error.issues)
        io.stderr.write(`${error.message}: ${issue.path ? `${issue.path}: ` : ''}${issue.message}\n`);
      return 2;
    }
    throw error;
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'nightshift-demo-'));
  const started = Date.now();
  const write = (lines: string[]): void => {
    for (const line of lines) io.stdout.write(`${line}\n`);
  };
  write(
    [
      `nightshift demo: scenario ${scenario.name} on the ${scenario.estate.name} estate, ${speed}× sim time`,
      scenario.description ? `  ${scenario.description}` : '',
      '',
    ].filter((line, index) => line !== '' || index === 2),
  );
  const run = await runScenario({
    scenario,
    redisUrl,
    dataDir,
    speed,
    signal: io.signal,
    onEvent: (event) => write(storyLines(event, Date.now() - started)),
  });
  const incident = run.incidents[0];
  const lines = ['', `data: ${dataDir}`];
  if (incident) {
    lines.push(
      `  postmortem draft: ${join(dataDir, 'daemon/postmortems', `${incident.id.replace(/[^\w.-]+/g, '_')}.md`)}`,
    );
    lines.push(
      `  audit log:        ${join(dataDir, 'daemon/audit.jsonl')}  (nightshift audit, with NIGHTSHIFT_DATA_DIR=${join(dataDir, 'daemon')})`,
    );
  }
  lines.push(`took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  write(lines);
  const rightlyEscalated = scenario.expect.escalate === true && run.observed.escalated;
  return run.observed.mitigated || rightlyEscalated ? 0 : 1;
};
