import { digestPayload } from '../payloads.js';
import type { LoopStage } from '../stage.js';
import type { LoopContext } from './context.js';

/** Idle incidents looked up per digest, least recently active first. */
const IDLE_CHECKED = 1_000;

/**
 * noise-digest: on a schedule, logs what was suppressed since the last digest and starts a new
 * period. Then tidies the correlation index: forgets the idle incidents that have resolved (a
 * crash cut their clearing short) and sweeps the entries forgotten incidents left behind.
 */
export const digestStage: LoopStage<typeof digestPayload, LoopContext> = {
  name: 'noise-digest',
  payload: digestPayload,
  async handle(_payload, context) {
    const digest = await context.noise.digest({ reset: true });
    const suppressed = Object.values(digest.since).reduce((sum, count) => sum + count, 0);
    context.logger.info(
      { suppressed, byReason: digest.since, top: digest.top, total: digest.total },
      'noise digest',
    );
    // One read for their states; an incident not in the graph yet may be a placement whose
    // detect job is still being retried, so only resolved ones are cleared (read whole, to clear).
    const idle = await context.correlator.idle(context.clock.now(), IDLE_CHECKED);
    let resolved = 0;
    for (const key of await context.store.resolvedAmong(idle)) {
      const incident = await context.store.get(key);
      if (incident?.state !== 'resolved') continue;
      await context.correlator.forgetIncident(incident);
      resolved += 1;
    }
    const swept = await context.correlator.sweep();
    if (resolved + swept.fingerprints + swept.entities > 0)
      context.logger.info(
        { resolvedIncidents: resolved, ...swept },
        'correlation index: entries of forgotten incidents removed',
      );
    return undefined;
  },
};
