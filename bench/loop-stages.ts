/**
 * Per-stage cost of the loop: `npx tsx bench/loop-stages.ts [--signals 2000] [--per-incident 10]
 * [--rounds 3] [--concurrency 8] [--redis-url redis://127.0.0.1:6379] [--backend embedded|neo4j]
 * [--neo4j-uri bolt://…] [--json]`.
 *
 * Runs each stage's handler directly, without BullMQ: every job of a stage for all the incidents
 * (at most `concurrency` at once), then every job that produced for the next stage, and so on.
 * Each round has fresh alert groups of `per-incident` signals on one pod (one incident per group);
 * the figures are those of the last round, when the code is warm. It answers where a signal's CPU
 * goes, stage by stage; bench/loop.ts measures the whole loop with its queues.
 *
 * The dependencies are those of bench/loop.ts: the daemon's graph writer, the other dependencies
 * trivial. The graph is embedded (in memory, journal without fsync) unless `--backend neo4j`:
 * then a Neo4j at `--neo4j-uri`, or one started by scripts/neo4j-local.mjs, in a namespace of its
 * own. With `--json`, stdout is one JSON object: per stage, jobs, this process's CPU ms per job
 * and per signal, and the wall ms of the stage's jobs together (what a graph server's time shows
 * in).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import type { Neo4jServer } from '../scripts/neo4j-local.mjs';
import { EmbeddedGraphStore } from '../src/graph/embedded/embedded-store.js';
import type { GraphStore } from '../src/graph/store.js';
import { createLoopContext } from '../src/loop/pipeline.js';
import type { NextJob } from '../src/loop/stage.js';
import type { LoopContext } from '../src/loop/stages/context.js';
import { detectStage } from '../src/loop/stages/detect.js';
import { executeStage } from '../src/loop/stages/execute.js';
import { ingestStage } from '../src/loop/stages/ingest.js';
import { investigateStage } from '../src/loop/stages/investigate.js';
import { learnStage } from '../src/loop/stages/learn.js';
import { respondStage } from '../src/loop/stages/respond.js';
import { verifyStage } from '../src/loop/stages/verify.js';
import { systemClock } from '../src/shared/clock.js';
import { settleKeyed } from '../src/shared/keyed-pool.js';
import { silentLogger } from '../src/shared/logger.js';
import {
  benchDeps,
  benchSignals,
  deleteKeys,
  positiveWholeNumber,
  runBench,
  UsageError,
} from './loop-kit.js';
import { openBenchNeo4j } from './neo4j-kit.js';

interface Stage {
  payload: { parse(input: unknown): unknown };
  handle(
    payload: never,
    context: LoopContext,
    signal: AbortSignal,
  ): Promise<NextJob | readonly NextJob[] | undefined>;
}

const STAGES: Record<string, Stage> = {
  ingest: ingestStage,
  detect: detectStage,
  investigate: investigateStage,
  respond: respondStage,
  execute: executeStage,
  verify: verifyStage,
  learn: learnStage,
};

function options(): {
  signals: number;
  perIncident: number;
  rounds: number;
  concurrency: number;
  redisUrl: string;
  backend: 'embedded' | 'neo4j';
  neo4jUri: string | undefined;
  json: boolean;
} {
  const { values } = parseArgs({
    options: {
      signals: { type: 'string', default: '2000' },
      'per-incident': { type: 'string', default: '10' },
      rounds: { type: 'string', default: '3' },
      concurrency: { type: 'string', default: '8' },
      'redis-url': { type: 'string', default: 'redis://127.0.0.1:6379' },
      backend: { type: 'string', default: 'embedded' },
      'neo4j-uri': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const backend = values.backend;
  if (backend !== 'embedded' && backend !== 'neo4j')
    throw new UsageError('--backend must be embedded or neo4j');
  return {
    backend,
    neo4jUri: values['neo4j-uri'],
    signals: positiveWholeNumber('signals', values.signals),
    perIncident: positiveWholeNumber('per-incident', values['per-incident']),
    rounds: positiveWholeNumber('rounds', values.rounds),
    concurrency: positiveWholeNumber('concurrency', values.concurrency),
    redisUrl: values['redis-url'],
    json: values.json,
  };
}

async function main(): Promise<void> {
  const settings = options();
  const dataDir = mkdtempSync(join(tmpdir(), 'nightshift-bench-stages-'));
  const logger = silentLogger();
  let server: Neo4jServer | undefined;
  let graph: GraphStore;
  if (settings.backend === 'neo4j') {
    ({ store: graph, server } = await openBenchNeo4j({
      uri: settings.neo4jUri,
      namespace: `bench-stages-${process.pid}-${Date.now().toString(36)}`,
      clock: systemClock,
    }));
  } else {
    graph = await EmbeddedGraphStore.open({ dataDir, fsync: 'never', logger, clock: systemClock });
  }
  const state = new Redis(settings.redisUrl, { maxRetriesPerRequest: null });
  const prefix = `nsbench:stages:${Date.now().toString(36)}`;
  const context = createLoopContext({
    state,
    prefix,
    graph,
    clock: systemClock,
    logger,
    deps: benchDeps(graph),
    settings: { verifyDelayMs: 0 },
  });
  const abort = new AbortController();
  let stages: Record<string, { jobs: number; cpuMsPerJob: number; cpuMsPerSignal: number; wallMs: number }> =
    {};
  for (let round = 0; round < settings.rounds; round++) {
    stages = {};
    const run = `${Date.now().toString(36)}r${round}`;
    let jobs: Array<{ stage: string; payload: unknown }> = [];
    for (let start = 0; start < settings.signals; start += settings.perIncident) {
      const end = Math.min(settings.signals, start + settings.perIncident);
      jobs.push({
        stage: 'ingest',
        payload: { v: 2, signals: benchSignals(run, start, end, settings.perIncident) },
      });
    }
    while (jobs.length > 0) {
      const name = jobs[0]?.stage ?? '';
      const stage = STAGES[name];
      if (!stage) throw new Error(`no stage ${name}`);
      const cpu = process.cpuUsage();
      const started = performance.now();
      // As the worker does: the payload is checked, then handled.
      const settled = await settleKeyed(
        jobs,
        () => [],
        settings.concurrency,
        (job) => stage.handle(stage.payload.parse(job.payload) as never, context, abort.signal),
      );
      const used = process.cpuUsage(cpu);
      const wallMs = Number((performance.now() - started).toFixed(1));
      const next = settled.map((outcome) => {
        if (outcome.status === 'rejected') throw outcome.reason;
        return outcome.value;
      });
      const ms = (used.user + used.system) / 1000;
      stages[name] = {
        jobs: jobs.length,
        cpuMsPerJob: Number((ms / jobs.length).toFixed(3)),
        cpuMsPerSignal: Number((ms / settings.signals).toFixed(3)),
        wallMs,
      };
      jobs = next.flatMap((one): NextJob[] =>
        one === undefined ? [] : Array.isArray(one) ? [...(one as readonly NextJob[])] : [one as NextJob],
      );
      if (jobs.some((job) => job.stage !== jobs[0]?.stage))
        throw new Error(
          `jobs of several stages at once: ${[...new Set(jobs.map((job) => job.stage))].join(', ')}`,
        );
    }
  }
  const total = Object.values(stages).reduce((sum, stage) => sum + stage.cpuMsPerSignal, 0);
  const result = {
    backend: settings.backend,
    signals: settings.signals,
    perIncident: settings.perIncident,
    concurrency: settings.concurrency,
    stages,
    cpuMsPerSignal: Number(total.toFixed(3)),
    note: 'each stage handler alone, without BullMQ; the last of the rounds',
  };
  await graph.close();
  await server?.stop();
  await deleteKeys(state, prefix);
  state.disconnect();
  rmSync(dataDir, { recursive: true, force: true });
  if (settings.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else process.stderr.write(`${JSON.stringify(result, null, 2)}\n`);
}

await runBench(main);
