import { digestPayload } from '../payloads.js';
import type { LoopStage } from '../stage.js';
import type { LoopContext } from './context.js';

/** noise-digest: on a schedule, logs what was suppressed since the last digest and starts a new period. */
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
    return undefined;
  },
};
