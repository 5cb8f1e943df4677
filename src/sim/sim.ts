import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { silentLogger, type Logger } from '../shared/logger.js';
import { startFlagsServer } from './flags-server.js';
import { writeKubeconfig } from './kubernetes/kubeconfig.js';
import { startKubernetesServer } from './kubernetes/server.js';
import type { Estate } from './scenario/estate-schema.js';
import type { Scenario } from './scenario/load.js';
import { startVendorServers, type VendorServers, type VendorServersOptions } from './vendors/index.js';
import { createWorld, type World } from './world/world.js';

/** How to start a simulated estate. */
export interface SimOptions {
  estate: Estate;
  scenario?: Scenario;
  /** Default: the scenario's seed, else 1. */
  seed?: number;
  /** Sim ms per wall ms; default: the scenario's speed, else 1. */
  speed?: number;
  /** Sim epoch ms of `at: 0s`; default now. */
  startMs?: number;
  /** Where git repositories and the kubeconfig go. */
  dataDir: string;
  logger?: Logger;
  /** Bearer token of the Kubernetes API; default a random one. */
  token?: string;
  /** Where to write the kubeconfig; default `<dataDir>/kubeconfig`. */
  kubeconfigPath?: string;
  host?: string;
  /** Options of the vendor servers, or false to start none. */
  vendors?: VendorServersOptions | false;
  /** Leave the clock stopped (step it with `world.advance`, or call `world.clock.start()`). */
  paused?: boolean;
  /** Wall ms between watch bookmarks. */
  bookmarkIntervalMs?: number;
}

/** A running simulated estate. `stop()` stops the clock and every server; safe to call twice. */
export interface Sim {
  world: World;
  kubernetes: { url: string; kubeconfigPath: string; token: string };
  flags: { url: string };
  /** The vendor servers (Datadog, Prometheus, Slack, PagerDuty, Anthropic, Alertmanager), unless disabled. */
  vendors?: VendorServers;
  stop(): Promise<void>;
}

/**
 * Builds the world of an estate (and scenario) and serves it on loopback: the Kubernetes API
 * (with a kubeconfig written for it), the flag provider and the vendor servers. The clock runs
 * at `speed` once everything listens, unless `paused`. Whatever started is stopped again if a
 * later part fails.
 */
export async function startSim(options: SimOptions): Promise<Sim> {
  const logger = options.logger ?? silentLogger();
  const world = await createWorld({
    estate: options.estate,
    ...(options.scenario ? { scenario: options.scenario } : {}),
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    ...(options.speed !== undefined ? { speed: options.speed } : {}),
    ...(options.startMs !== undefined ? { startMs: options.startMs } : {}),
    dataDir: options.dataDir,
    logger: logger.child({ component: 'sim' }),
  });
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async (): Promise<void> => {
    await world.clock.stop();
    for (const stop of stops.splice(0).reverse())
      await stop().catch((error: unknown) => logger.warn({ err: error }, 'sim part failed to stop'));
  };
  try {
    const token = options.token ?? randomBytes(16).toString('hex');
    const host = options.host ?? '127.0.0.1';
    const kubernetes = await startKubernetesServer({
      world,
      token,
      host,
      logger: logger.child({ component: 'sim-kubernetes' }),
      ...(options.bookmarkIntervalMs ? { bookmarkIntervalMs: options.bookmarkIntervalMs } : {}),
    });
    stops.push(() => kubernetes.close());
    const kubeconfigPath = options.kubeconfigPath ?? join(options.dataDir, 'kubeconfig');
    const firstNamespace = world.services()[0]?.namespace;
    await writeKubeconfig(kubeconfigPath, {
      url: kubernetes.url,
      token,
      cluster: world.clusterName(),
      ...(firstNamespace ? { namespace: firstNamespace } : {}),
    });
    const flags = await startFlagsServer({ world, host, logger: logger.child({ component: 'sim-flags' }) });
    stops.push(() => flags.close());
    let vendors: VendorServers | undefined;
    if (options.vendors !== false) {
      vendors = await startVendorServers(world, {
        host,
        logger: logger.child({ component: 'sim-vendors' }),
        ...(options.vendors ?? {}),
      });
      const started = vendors;
      stops.push(() => started.stop());
    }
    if (!options.paused) world.clock.start();
    return {
      world,
      kubernetes: { url: kubernetes.url, kubeconfigPath, token },
      flags: { url: flags.url },
      ...(vendors ? { vendors } : {}),
      stop: (() => {
        let stopping: Promise<void> | undefined;
        return () => (stopping ??= stopAll());
      })(),
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
