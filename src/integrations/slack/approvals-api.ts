import type { Context } from 'hono';
import { z } from 'zod';
import type { RouteInstaller, ServerEnv } from '../../server/http.js';
import { bearerCheck } from '../../server/bearer.js';
import { jsonError } from '../../server/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { Secret } from '../../shared/secret.js';
import type { ApprovalService } from './approvals.js';

/** Options of the approvals API. */
export interface ApprovalsApiOptions {
  approvals: ApprovalService;
  /** The bearer token callers must send. */
  token: Secret;
  logger: Logger;
}

const bodySchema = z
  .object({
    by: z
      .string()
      .trim()
      .min(1)
      .max(64)
      .regex(/^[\w.@-]+$/, 'letters, digits, . _ @ - only')
      .optional(),
  })
  .strict();

/**
 * `POST /api/approvals/:id/approve` and `…/reject`: the same atomic decision as the Slack
 * buttons, for the console and scripts. Bearer token auth; an optional JSON body `{by}` names
 * the person (recorded as `api:<by>`). Answers 200 with the decision, 409 when already decided,
 * 410 when expired, 404 for an unknown id, 401 without the token.
 */
export function approvalsApiRoutes(options: ApprovalsApiOptions): RouteInstaller {
  const logger = options.logger.child({ component: 'approvals-api' });
  const authorised = bearerCheck(options.token);
  const handle = async (
    context: Context<ServerEnv>,
    decision: 'approved' | 'rejected',
  ): Promise<Response> => {
    if (!authorised(context.req.header('authorization'))) {
      context.header('www-authenticate', 'Bearer realm="nightshift"');
      return jsonError(context, 401, 'unauthorized', 'send Authorization: Bearer <approvals API token>');
    }
    const text = await context.req.text();
    let input: unknown = {};
    if (text.trim() !== '') {
      try {
        input = JSON.parse(text) as unknown;
      } catch {
        return jsonError(context, 400, 'invalid_payload', 'the body must be JSON, e.g. {"by":"alice"}');
      }
    }
    const parsed = bodySchema.safeParse(input);
    if (!parsed.success)
      return jsonError(
        context,
        400,
        'invalid_payload',
        parsed.error.issues
          .map((issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`)
          .join('; '),
      );
    const approvalId = context.req.param('id') ?? '';
    const by = `api:${parsed.data.by ?? 'token'}`;
    const attempt = await options.approvals.decide(approvalId, decision, { by, via: 'api' });
    switch (attempt.status) {
      case 'unknown':
        return jsonError(context, 404, 'not_found', `no approval ${approvalId}`);
      case 'expired':
        return jsonError(
          context,
          410,
          'expired',
          `approval ${approvalId} expired undecided`,
          attempt.decision,
        );
      case 'already_decided':
        return jsonError(
          context,
          409,
          'already_decided',
          `approval ${approvalId} was already ${attempt.decision.decision}`,
          attempt.decision,
        );
      case 'decided':
        logger.info({ approvalId, decision, by }, 'approval decided through the API');
        return context.json({ approvalId, ...attempt.decision }, 200);
    }
  };
  return (app) => {
    app.post('/api/approvals/:id/approve', (context) => handle(context, 'approved'));
    app.post('/api/approvals/:id/reject', (context) => handle(context, 'rejected'));
  };
}
