import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ValidationError } from '../shared/errors.js';
import { createLogger } from '../shared/logger.js';
import { loadEstate, loadScenario, type Scenario } from '../sim/scenario/load.js';
import type { Estate } from '../sim/scenario/estate-schema.js';
import { startSim } from '../sim/sim.js';
import { UsageError, type Command } from './io.js';

/** The usage line of `nightshift sim`. */
export const SIM_USAGE =
  'nightshift sim --estate NAME|PATH [--scenario NAME|PATH] [--speed N] [--seed N] [--kubeconfig PATH] [--data-dir DIR]';

function parse(argv: string[]): {
  estate?: string;
  scenario?: string;
  speed?: number;
  seed?: number;
  kubeconfig?: string;
  dataDir?: string;
} {
  const { values } = parseArgs({
    args: argv,
    options: {
      estate: { type: 'string' },
      scenario: { type: 'string' },
      speed: { type: 'string' },
      seed: { type: 'string' },
      kubeconfig: { type: 'string' },
      'data-dir': { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  });
  const number = (name: string, text: string | undefined, integer: boolean): number | undefined => {
    if (text === undefined) return undefined;
    const value = Number(text);
    if (!Number.isFinite(value) || (integer && !Number.isInteger(value)) || (!integer && value <= 0)) {
      throw new UsageError(
        `--${name} must be ${integer ? 'an integer' : 'a positive number'}, got "${text}"`,
      );
    }
    return value;
  };
  if (!values.estate && !values.scenario)
    throw new UsageError(`give --estate or --scenario\nusage: ${SIM_USAGE}`);
  const speed = number('speed', values.speed, false);
  const seed = number('seed', values.seed, true);
  return {
    ...(values.estate ? { estate: values.estate } : {}),
    ...(values.scenario ? { scenario: values.scenario } : {}),
    ...(speed !== undefined ? { speed } : {}),
    ...(seed !== undefined ? { seed } : {}),
    ...(values.kubeconfig ? { kubeconfig: values.kubeconfig } : {}),
    ...(values['data-dir'] ? { dataDir: values['data-dir'] } : {}),
  };
}

/**
 * `nightshift sim`: runs a simulated estate alone (Kubernetes API, flag provider, Datadog,
 * Prometheus, Slack, PagerDuty, Anthropic fakes) and prints ONE JSON line with every server's
 * address once ready, then runs until the process is signalled. A broken estate or scenario
 * file exits 2 with one line per problem (file, field, reason).
 */
export const simCommand: Command = async (argv, io) => {
  let args: ReturnType<typeof parse>;
  try {
    args = parse(argv);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError((error as Error).message);
  }
  let estate: Estate;
  let scenario: Scenario | undefined;
  try {
    if (args.scenario) {
      scenario = loadScenario(args.scenario, { cwd: io.cwd });
      if (
        args.estate &&
        args.estate !== scenario.estate.name &&
        resolve(io.cwd, args.estate) !== scenario.estateFile
      ) {
        throw new UsageError(
          `--estate ${args.estate} differs from the scenario's estate ${scenario.estate.name}; give one of them`,
        );
      }
      estate = scenario.estate;
    } else {
      estate = loadEstate(args.estate ?? '', { cwd: io.cwd }).estate;
    }
  } catch (error) {
    if (error instanceof ValidationError) {
      const what = typeof error.data.what === 'string' ? error.data.what : 'input';
      for (const issue of error.issues)
        io.stderr.write(`${what}: ${issue.path ? `${issue.path}: ` : ''}${issue.message}\n`);
      return 2;
    }
    throw error;
  }
  const temporary = args.dataDir === undefined;
  const dataDir = args.dataDir
    ? resolve(io.cwd, args.dataDir)
    : mkdtempSync(resolve(tmpdir(), 'nightshift-sim-'));
  const logger = createLogger({ level: io.env.LOG_LEVEL ?? 'info', destination: io.stderr });
  const sim = await startSim({
    estate,
    ...(scenario ? { scenario } : {}),
    ...(args.speed !== undefined ? { speed: args.speed } : {}),
    ...(args.seed !== undefined ? { seed: args.seed } : {}),
    ...(args.kubeconfig ? { kubeconfigPath: resolve(io.cwd, args.kubeconfig) } : {}),
    dataDir,
    logger,
  });
  try {
    const urls = sim.vendors?.urls;
    io.stdout.write(
      `${JSON.stringify({
        ready: true,
        estate: estate.name,
        scenario: scenario?.name ?? null,
        seed: scenario?.seed ?? args.seed ?? 1,
        speed: sim.world.clock.speed,
        startedAt: new Date(sim.world.startedAt()).toISOString(),
        kubernetes: {
          url: sim.kubernetes.url,
          kubeconfig: sim.kubernetes.kubeconfigPath,
          context: sim.world.clusterName(),
        },
        flags: sim.flags.url,
        ...(urls
          ? {
              datadog: urls.datadog,
              prometheus: urls.prometheus,
              slackApi: urls.slackApi,
              pagerduty: urls.pagerduty,
              anthropic: urls.anthropic,
            }
          : {}),
        dataDir,
      })}\n`,
    );
    await new Promise<void>((done) => {
      if (io.signal.aborted) done();
      else io.signal.addEventListener('abort', () => done(), { once: true });
    });
    return 0;
  } finally {
    await sim.stop();
    if (temporary) rmSync(dataDir, { recursive: true, force: true });
  }
};
