import { nextImage } from '../bootstrap.js';
import { addErrors, slowDown } from '../samples.js';
import { codeFingerprint } from '../templates.js';
import type { FaultModelOf } from './fault-model.js';
import { currentFingerprint, readyShare } from './helpers.js';

const SPIKE_MS = 120_000;

/**
 * A deploy of `service` raises its connection pool: its pods hold most of `datastore`'s
 * connections, the datastore sits at max and refuses the rest, and every client of the
 * datastore errors. Cleared by rolling `service` back; restarting it (or the datastore) while
 * the bad pool is live makes a reconnect storm on top.
 */
export const connectionPoolExhaustion: FaultModelOf<'connection_pool_exhaustion'> = {
  kind: 'connection_pool_exhaustion',
  subject: (runtime) => runtime.fault.datastore,
  async start(runtime, world) {
    const { fault } = runtime;
    const current = world.cluster.currentTemplate(fault.service)?.spec.containers[0]?.image ?? '';
    await world.deploy(fault.service, {
      image: fault.image ?? nextImage(current, 'minor'),
      config: { DATABASE_POOL_SIZE: String(fault.poolSize) },
      message: fault.message ?? `Raise the ${fault.datastore} pool to ${fault.poolSize} for the sale traffic`,
      ...(fault.author ? { author: fault.author } : {}),
      files: {
        'config/database.yaml': `datastore: ${fault.datastore}\npool:\n  max: ${fault.poolSize}\n  idleTimeoutMs: 0\n`,
      },
      onTemplate: (template) => {
        runtime.data.fingerprint = codeFingerprint(template);
      },
    });
  },
  present(runtime, world) {
    return currentFingerprint(world, runtime.fault.service) === runtime.data.fingerprint;
  },
  onAction(runtime, world, action) {
    const targets = [runtime.fault.service, runtime.fault.datastore];
    const restart = action.kind === 'k8s.rolloutRestart' || action.kind === 'k8s.deletePod';
    if (!restart || !targets.includes(action.target)) return;
    if (currentFingerprint(world, runtime.fault.service) !== runtime.data.fingerprint) return;
    ((runtime.data.spikes ??= []) as number[]).push(action.t);
  },
  apply(runtime, world, t, samples) {
    const { service, datastore } = runtime.fault;
    const share = readyShare(world, service, runtime.data.fingerprint, t);
    const spike = ((runtime.data.spikes ?? []) as number[]).some((at) => at <= t && t < at + SPIKE_MS);
    if (share === 0 && !spike) return;
    const store = samples.get(datastore);
    const pressure = Math.min(1, share * 3);
    if (store) {
      const max = store.dbConnectionsMax || 100;
      store.dbConnectionsInUse = Math.round(
        store.dbConnectionsInUse + (max - store.dbConnectionsInUse) * pressure,
      );
      addErrors(store, 0.35 * Math.min(1, share * 2) + (spike ? 0.4 : 0));
      slowDown(store, 1 + 4 * pressure + (spike ? 6 : 0));
    }
    const model = world.model(service);
    if (model && !model.dependsOn.includes(datastore)) addErrors(samples.get(service), 0.2 * pressure);
  },
  errorLine(runtime, _world, service) {
    if (service === runtime.fault.datastore) return 'FATAL:  sorry, too many clients already';
    return `request failed status=500 error="could not acquire a connection from pool ${runtime.fault.datastore}: remaining connection slots are reserved for non-replication superuser connections"`;
  },
  podLines(runtime, world, pod, t) {
    if (
      pod.service !== runtime.fault.datastore ||
      readyShare(world, runtime.fault.service, runtime.data.fingerprint, t) === 0
    )
      return [];
    return [
      {
        level: 'error',
        message: `FATAL:  remaining connection slots are reserved for non-replication superuser connections`,
      },
    ];
  },
};
