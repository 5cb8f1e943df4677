import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError, type Command } from '../cli/io.js';
import { loadConfig } from '../config/index.js';
import { redisAnswers } from '../demo/command.js';
import { ConfigError, ValidationError } from '../shared/errors.js';
import { defaultEvalsDir, loadScenario, type Scenario } from '../sim/scenario/load.js';
import { runScenario } from './run-scenario.js';
import { scoreScenario, summarize, type ScenarioScore } from './score.js';

export const EVAL_USAGE =
  'nightshift eval [PATH…] [--planner rules|claude] [--backend embedded|neo4j] [--json] [--min-pass R] [--speed N]';

function scenarioFiles(paths: readonly string[], cwd: string): string[] {
  const files: string[] = [];
  for (const path of paths) {
    const full = resolve(cwd, path);
    if (statSync(full).isDirectory()) {
      const dir = readdirSync(full).includes('scenarios') ? join(full, 'scenarios') : full;
      for (const name of readdirSync(dir).sort())
        if (name.endsWith('.yaml') || name.endsWith('.yml')) files.push(join(dir, name));
    } else files.push(full);
  }
  return files;
}

function row(score: ScenarioScore): string {
  const mark = score.passed ? 'PASS' : 'FAIL';
  const rank = score.rootCauseRank === undefined ? '-' : String(score.rootCauseRank);
  return `${mark}  ${score.name.padEnd(40)} rank ${rank.padEnd(2)} ${(score.remediation ?? '-').padEnd(34)} ${(score.mode ?? '-').padEnd(10)} ${(score.wallMs / 1000).toFixed(1).padStart(5)} s`;
}

/**
 * `nightshift eval [PATH…]`: runs scenarios (files, or folders of them; default the shipped
 * `evals/`) one after another, each in a fresh sim with the whole daemon, scores them as
 * docs/evals.md says, and prints a table with live progress, or with `--json` the JSON document
 * (progress then goes to stderr). Exit 1 when the pass rate is below `--min-pass`, 2 on bad
 * usage or an invalid scenario file.
 */
export const evalCommand: Command = async (argv, io) => {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      planner: { type: 'string' },
      backend: { type: 'string' },
      json: { type: 'boolean' },
      'min-pass': { type: 'string' },
      speed: { type: 'string' },
    },
  });
  const planner = values.planner ?? 'rules';
  if (planner !== 'rules' && planner !== 'claude')
    throw new UsageError(`--planner must be rules or claude, got "${planner}"`);
  const backend = values.backend ?? 'embedded';
  if (backend !== 'embedded' && backend !== 'neo4j')
    throw new UsageError(`--backend must be embedded or neo4j, got "${backend}"`);
  const minPass = values['min-pass'] === undefined ? 0 : Number(values['min-pass']);
  if (!Number.isFinite(minPass) || minPass < 0 || minPass > 1)
    throw new UsageError(`--min-pass must be between 0 and 1, got "${values['min-pass']}"`);
  const speed = values.speed === undefined ? undefined : Number(values.speed);
  if (speed !== undefined && (!Number.isFinite(speed) || speed <= 0))
    throw new UsageError(`--speed must be a positive number, got "${values.speed}"`);

  let config;
  try {
    config = loadConfig({ env: io.env, cwd: io.cwd });
  } catch (error) {
    if (error instanceof ConfigError) {
      for (const issue of error.issues) io.stderr.write(`config: ${issue.path}: ${issue.message}\n`);
      return 2;
    }
    throw error;
  }
  if (backend === 'neo4j' && !config.graph.neo4j.uri) {
    io.stderr.write('nightshift eval --backend neo4j needs NEO4J_URI (e.g. from `npm run neo4j:local`)\n');
    return 2;
  }
  if (planner === 'claude' && !config.integrations.anthropic.apiKey) {
    io.stderr.write('nightshift eval --planner claude needs ANTHROPIC_API_KEY\n');
    return 2;
  }
  let scenarios: Scenario[];
  try {
    const files = scenarioFiles(positionals.length > 0 ? positionals : [defaultEvalsDir()], io.cwd);
    if (files.length === 0) throw new UsageError('no scenario files found');
    scenarios = files.map((file) => loadScenario(file));
  } catch (error) {
    if (error instanceof ValidationError) {
      for (const issue of error.issues)
        io.stderr.write(`${error.message}: ${issue.path ? `${issue.path}: ` : ''}${issue.message}\n`);
      return 2;
    }
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      io.stderr.write(`no such file or folder: ${(error as NodeJS.ErrnoException).path ?? ''}\n`);
      return 2;
    }
    throw error;
  }
  if (!(await redisAnswers(config.redis.url))) {
    io.stderr.write(`nightshift eval needs Redis and none answers at ${config.redis.url} (set REDIS_URL)\n`);
    return 1;
  }

  const progress = values.json ? io.stderr : io.stdout;
  const entries: Array<{ scenario: Scenario; score: ScenarioScore }> = [];
  for (const [index, scenario] of scenarios.entries()) {
    if (io.signal.aborted) break;
    progress.write(`[${index + 1}/${scenarios.length}] ${scenario.name} …\n`);
    const dataDir = mkdtempSync(join(tmpdir(), 'nightshift-eval-'));
    try {
      const run = await runScenario({
        scenario,
        redisUrl: config.redis.url,
        dataDir,
        planner,
        ...(speed !== undefined ? { speed } : {}),
        ...(backend === 'neo4j' && config.graph.neo4j.uri
          ? { graph: { backend: 'neo4j', uri: config.graph.neo4j.uri } }
          : {}),
        ...(planner === 'claude' && config.integrations.anthropic.apiKey
          ? {
              anthropic: {
                apiKey: config.integrations.anthropic.apiKey.reveal(),
                baseUrl: config.integrations.anthropic.baseUrl,
              },
            }
          : {}),
        signal: io.signal,
      });
      const score = scoreScenario(scenario, run.observed);
      entries.push({ scenario, score });
      progress.write(`${row(score)}\n`);
      for (const failure of score.failures) progress.write(`      ${failure}\n`);
    } catch (error) {
      const score = scoreScenario(scenario, {
        incidents: 0,
        causes: [],
        actions: [],
        escalated: false,
        mitigated: false,
        toolCalls: 0,
        tokens: { input: 0, output: 0 },
        wallMs: 0,
        error: error instanceof Error ? error.message : String(error),
      });
      entries.push({ scenario, score });
      progress.write(`${row(score)}\n      ${score.failures[0] ?? ''}\n`);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  const summary = summarize(entries);
  if (values.json) {
    io.stdout.write(
      `${JSON.stringify({ summary, scenarios: entries.map((entry) => entry.score) }, null, 2)}\n`,
    );
  } else {
    io.stdout.write(
      `\n${summary.passed}/${summary.scenarios} passed · rcaTop1 ${summary.rcaTop1.toFixed(2)} · remediation ${summary.remediationCorrect.toFixed(2)} · mode ${summary.modeCorrect.toFixed(2)} · escalation ${summary.escalationCorrect.toFixed(2)} · mitigated ${summary.mitigated.toFixed(2)} · unsafe actions ${summary.unsafeActions} · false incidents ${summary.falseIncidents}\n`,
    );
  }
  return summary.passRate < minPass ? 1 : 0;
};
