import { z } from 'zod';
import { flagId, serviceId } from '../../../graph/ids.js';
import { signalId, type Signal } from '../../signal.js';
import { emptyWrites, finishSignals, polledRaw, type Poller } from '../poller.js';

const flagValue = z.union([z.boolean(), z.string(), z.number()]);
const listing = z.object({
  flags: z.array(
    z
      .object({
        key: z.string().min(1),
        service: z.string().min(1).optional(),
        value: flagValue,
        updatedAt: z.number().optional(),
      })
      .loose(),
  ),
});
const stateSchema = z.object({ v: z.literal(1), values: z.record(z.string(), flagValue).nullable() });
type FlagsState = z.infer<typeof stateSchema>;

/** Where the flags are: a provider answering `GET <url>/flags` with `{flags: [{key, service?, value}]}`. */
export interface FlagsPollerOptions {
  url: string;
  token?: string;
  /** The provider's name in graph ids (`flag:<provider>/<key>`). Default `flags`. */
  provider?: string;
  timeoutMs?: number;
}

/**
 * Follows a flag provider: every flag becomes a FeatureFlag entity its service DEPENDS_ON, and a
 * value that changed since the last poll becomes a `change` signal (`changeType: flag-flip`,
 * `value`, `previous`), so investigations can weigh a flip like a deploy. The first poll records
 * the current values without signals: a value it never saw change is not a flip.
 */
export function flagsPoller(options: FlagsPollerOptions): Poller<FlagsState> {
  const provider = options.provider ?? 'flags';
  return {
    name: 'flags',
    initialState: () => ({ v: 1, values: null }),
    readState: (stored) => {
      const parsed = stateSchema.safeParse(stored);
      return parsed.success ? parsed.data : { v: 1, values: null };
    },
    async poll(state, context) {
      const response = await fetch(`${options.url.replace(/\/+$/, '')}/flags`, {
        headers: options.token ? { authorization: `Bearer ${options.token}` } : {},
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      });
      if (!response.ok) throw new Error(`the flag provider answered ${response.status}`);
      const body: unknown = await response.json();
      const { flags } = listing.parse(body);
      const now = context.clock.now();
      const writes = emptyWrites();
      const signals: Signal[] = [];
      const values: Record<string, boolean | string | number> = {};
      for (const flag of flags) {
        const id = flagId(provider, flag.key);
        values[flag.key] = flag.value;
        writes.entities.push({
          id,
          kind: 'FeatureFlag',
          name: flag.key,
          source: 'poll:flags',
          observedAt: now,
          properties: {
            key: flag.key,
            value: flag.value,
            ...(flag.service ? { service: flag.service } : {}),
          },
        });
        if (flag.service) {
          writes.entities.push({
            id: serviceId(flag.service),
            kind: 'Service',
            name: flag.service,
            source: 'poll:flags',
            observedAt: now,
          });
          writes.relationships.push({
            kind: 'DEPENDS_ON',
            from: serviceId(flag.service),
            to: id,
            source: 'poll:flags',
            observedAt: now,
          });
        }
        const previous = state.values?.[flag.key];
        if (state.values === null || previous === undefined || previous === flag.value) continue;
        signals.push({
          v: 1,
          id: signalId(
            'sim',
            `flag:${provider}/${flag.key}`,
            'change',
            // The provider's change time when it gives one: a poll repeated later finds the same id.
            `${String(previous)}->${String(flag.value)}@${flag.updatedAt ?? 'unknown'}`,
          ),
          source: 'flags',
          kind: 'change',
          fingerprint: `flag:${provider}/${flag.key}`,
          severity: 'info',
          entities: [
            { kind: 'FeatureFlag', id, name: flag.key },
            ...(flag.service
              ? [{ kind: 'Service' as const, id: serviceId(flag.service), name: flag.service }]
              : []),
          ],
          observedAt: now,
          receivedAt: now,
          summary: `flag ${flag.key} changed from ${JSON.stringify(previous)} to ${JSON.stringify(flag.value)}`,
          attributes: { changeType: 'flag-flip', key: flag.key, value: flag.value, previous },
          raw: polledRaw('flags', { key: flag.key, value: flag.value, previous }),
        });
      }
      return { signals: finishSignals(signals), graphWrites: writes, nextState: { v: 1, values } };
    },
  };
}
