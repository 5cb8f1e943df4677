/**
 * The loop bench's real investigator: the daemon's `investigate` with the rules planner and the
 * read-only tools it has in a cluster (graph, Kubernetes API, Prometheus), against a simulated
 * estate (`nightshift sim --estate shop`) run in a process of its own, as the Kubernetes API and
 * Prometheus are elsewhere in production. The bench's pods are not in that estate (as pods that
 * came and went are not): the planner reads their namespace through the analyzers, finds no cause
 * and proposes nothing, so their incidents are escalated and then learned from.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import * as k8s from '@kubernetes/client-node';
import type { GraphStore } from '../src/graph/store.js';
import { createInvestigationTools, createRulesPlanner, investigate } from '../src/investigate/index.js';
import type { LoopDeps } from '../src/loop/pipeline-types.js';
import { systemClock } from '../src/shared/clock.js';
import type { Logger } from '../src/shared/logger.js';

const ROOT = resolve(import.meta.dirname, '..');

/** What the sim prints once it listens. */
interface SimReady {
  kubernetes: { kubeconfig: string };
  prometheus?: string;
}

/** The simulated estate the investigator reads; `stop()` ends its process. */
export interface BenchSim {
  kubeConfig: k8s.KubeConfig;
  prometheusUrl: string | undefined;
  stop(): Promise<void>;
}

/** Starts `nightshift sim --estate shop` in a child process and waits until it listens. */
export async function startBenchSim(): Promise<BenchSim> {
  const dataDir = mkdtempSync(join(tmpdir(), 'nightshift-bench-sim-'));
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'src/main.ts'), 'sim', '--estate', 'shop', '--data-dir', dataDir],
    { cwd: ROOT, env: { ...process.env, LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`the sim exited (${code}) before it was ready`))),
  );
  const first = new Promise<SimReady>((resolveReady) =>
    createInterface({ input: child.stdout }).once('line', (line) =>
      resolveReady(JSON.parse(line) as SimReady),
    ),
  );
  let ready: SimReady;
  try {
    ready = await Promise.race([first, exited]);
  } catch (error) {
    child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  exited.catch(() => undefined);
  const kubeConfig = new k8s.KubeConfig();
  kubeConfig.loadFromFile(ready.kubernetes.kubeconfig);
  return {
    kubeConfig,
    prometheusUrl: ready.prometheus,
    stop: async () => stopChild(child, dataDir),
  };
}

async function stopChild(child: ChildProcess, dataDir: string): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const gone = new Promise((done) => child.once('exit', done));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await gone;
    clearTimeout(timer);
  }
  rmSync(dataDir, { recursive: true, force: true });
}

/**
 * The daemon's investigation over `graph` with the rules planner and the tools of `sim`, as a
 * loop dependency (what the daemon's own adds to it, the incident journal, is left out).
 */
export function rulesInvestigator(graph: GraphStore, sim: BenchSim, logger: Logger): LoopDeps['investigate'] {
  const tools = createInvestigationTools({
    graph,
    kubernetes: { kubeConfig: sim.kubeConfig },
    ...(sim.prometheusUrl ? { prometheus: { url: sim.prometheusUrl } } : {}),
  });
  // The series the sim serves, as the eval harness configures them.
  const planner = createRulesPlanner({
    now: () => systemClock.now(),
    queries: {
      errors: 'sum(nightshift_sim_errors{service="$service"})',
      rps: 'sum(nightshift_sim_rps{service="$service"})',
    },
  });
  return async (input, signal) => {
    const result = await investigate(input, { graph, tools, planner, clock: systemClock, logger }, signal);
    return {
      ...(result.rootCause ? { rootCause: result.rootCause } : {}),
      proposals: result.proposals,
      report: { markdown: result.report.markdown, json: { toolCalls: result.toolCalls } },
      ...(result.firstToolCallAt !== undefined ? { firstToolCallAt: result.firstToolCallAt } : {}),
    };
  };
}
