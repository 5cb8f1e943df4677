import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Config } from '../../config/index.js';
import { matcherSchema, type NoiseFilter, type Silence, type SilenceInput } from '../../loop/noise.js';
import { bearerCheck } from '../../server/bearer.js';
import { jsonError } from '../../server/errors.js';
import { jsonBody } from '../../server/json-body.js';
import type { RouteInstaller } from '../../server/http.js';
import type { Clock } from '../../shared/clock.js';
import type { Secret } from '../../shared/secret.js';

const instant = z.iso.datetime({ offset: true });

/** What `POST /api/silences` takes: a silence or maintenance window; learned ones come from learning. */
const body = z
  .strictObject({
    id: z
      .string()
      .regex(/^[\w.:-]{1,128}$/, 'letters, digits, _ . : - only, at most 128')
      .optional(),
    kind: z.enum(['silence', 'maintenance']).default('silence'),
    matchers: z.array(matcherSchema).min(1).max(20),
    startsAt: instant.optional(),
    endsAt: instant,
    comment: z.string().max(1_000).optional(),
    createdBy: z.string().min(1).max(128),
  })
  .superRefine((value, context) => {
    for (const [index, matcher] of value.matchers.entries()) {
      if (!matcher.isRegex) continue;
      try {
        new RegExp(matcher.value);
      } catch {
        context.addIssue({
          code: 'custom',
          path: ['matchers', index, 'value'],
          message: 'not a valid regular expression',
        });
      }
    }
    if (value.startsAt && Date.parse(value.endsAt) <= Date.parse(value.startsAt))
      context.addIssue({ code: 'custom', path: ['endsAt'], message: 'must be after startsAt' });
  });

/** The silences and maintenance windows of the configuration file, as the noise filter takes them. */
export function configuredSilences(silences: Config['loop']['silences']): SilenceInput[] {
  return silences.map((item) => ({
    id: item.id,
    kind: item.kind,
    matchers: item.matchers,
    ...(item.startsAt ? { startsAt: Date.parse(item.startsAt) } : {}),
    ...(item.endsAt ? { endsAt: Date.parse(item.endsAt) } : {}),
    createdBy: item.createdBy ?? 'config',
    comment: item.comment ?? '',
  }));
}

/** A silence as the API shows it: times in ISO 8601, where it comes from, whether it applies now. */
function view(silence: Silence, configured: ReadonlySet<string>, now: number): Record<string, unknown> {
  return {
    ...silence,
    startsAt: new Date(silence.startsAt).toISOString(),
    ...(silence.endsAt !== undefined ? { endsAt: new Date(silence.endsAt).toISOString() } : {}),
    source: configured.has(silence.id) ? 'config' : silence.kind === 'learned' ? 'learned' : 'api',
    active: silence.startsAt <= now && (silence.endsAt === undefined || now < silence.endsAt),
  };
}

/**
 * The noise filter's silences over HTTP, for every replica (they are kept in Redis), behind the
 * bearer token `approvals.apiToken` (401 without it):
 * - `GET /api/silences`: configured, added and learned ones, each with `source` and `active`;
 * - `POST /api/silences {id?, kind?, matchers, startsAt?, endsAt, comment?, createdBy}`: adds a
 *   silence or maintenance window, or replaces the one with that id; 201 with it. 400 names each
 *   problem of a bad body; 409 for the id of a configured one;
 * - `DELETE /api/silences/:id`: removes an added or learned one (a learned alert is then judged
 *   afresh); 404 when there is none, 409 for a configured one (edit the file).
 */
export function silencesApiRoutes(options: {
  noise: NoiseFilter;
  configured: readonly SilenceInput[];
  token: Secret;
  clock: Clock;
}): RouteInstaller {
  const authorised = bearerCheck(options.token);
  const configured = new Set(options.configured.map((item) => item.id));
  return (app) => {
    app.get('/api/silences', async (context) => {
      if (!authorised(context.req.header('authorization')))
        return jsonError(context, 401, 'unauthorized', 'a bearer token is required');
      const now = options.clock.now();
      const silences = await options.noise.silences();
      return context.json({ silences: silences.map((item) => view(item, configured, now)) });
    });
    app.post('/api/silences', async (context) => {
      if (!authorised(context.req.header('authorization')))
        return jsonError(context, 401, 'unauthorized', 'a bearer token is required');
      const parsed = await jsonBody(context, body);
      if ('refused' in parsed) return parsed.refused;
      const input = parsed.data;
      const id = input.id ?? `silence-${randomBytes(6).toString('hex')}`;
      if (configured.has(id))
        return jsonError(context, 409, 'configured', `${id} is defined in the configuration file`);
      const now = options.clock.now();
      const silence = await options.noise.addSilence({
        id,
        kind: input.kind,
        matchers: input.matchers,
        startsAt: input.startsAt ? Date.parse(input.startsAt) : now,
        endsAt: Date.parse(input.endsAt),
        createdBy: `api:${input.createdBy}`,
        comment: input.comment ?? '',
      });
      return context.json(view(silence, configured, now), 201);
    });
    app.delete('/api/silences/:id', async (context) => {
      if (!authorised(context.req.header('authorization')))
        return jsonError(context, 401, 'unauthorized', 'a bearer token is required');
      const id = context.req.param('id');
      if (configured.has(id))
        return jsonError(context, 409, 'configured', `${id} is defined in the configuration file`);
      if (!(await options.noise.removeSilence(id)))
        return jsonError(context, 404, 'not_found', `no silence ${id}`);
      return context.body(null, 204);
    });
  };
}
