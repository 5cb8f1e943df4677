import { z } from 'zod';
import { jsonError } from '../../server/errors.js';
import { bearerCheck } from '../../server/bearer.js';
import { jsonBody } from '../../server/json-body.js';
import type { RouteInstaller } from '../../server/http.js';
import type { Secret } from '../../shared/secret.js';
import type { RuntimeControls } from './controls.js';

const body = z.strictObject({ on: z.boolean(), by: z.string().min(1).max(128).optional() });

/**
 * `GET /api/controls` and `POST /api/controls/kill-switch {on, by?}`: the kill switch from the
 * API, the same one Slack's `/nightshift pause|resume` flips, for every replica. Bearer token
 * (`approvals.apiToken`); 401 without it, 400 naming the problem for a bad body.
 */
export function controlsApiRoutes(options: { controls: RuntimeControls; token: Secret }): RouteInstaller {
  const authorised = bearerCheck(options.token);
  return (app) => {
    app.get('/api/controls', (context) => {
      if (!authorised(context.req.header('authorization')))
        return jsonError(context, 401, 'unauthorized', 'a bearer token is required');
      return context.json(options.controls.current());
    });
    app.post('/api/controls/kill-switch', async (context) => {
      if (!authorised(context.req.header('authorization')))
        return jsonError(context, 401, 'unauthorized', 'a bearer token is required');
      const parsed = await jsonBody(context, body);
      if ('refused' in parsed) return parsed.refused;
      await options.controls.setKillSwitch(parsed.data.on, `api:${parsed.data.by ?? 'unknown'}`);
      return context.json(options.controls.current());
    });
  };
}
