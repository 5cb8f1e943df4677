import type { WebhookHeaders } from '../../parse.js';
import { AUTHENTICATED, sameSecret, unauthorized, type AuthResult } from '../authentication.js';

/**
 * The header Datadog must send with the shared secret. Set it in the webhook's Custom Headers as
 * `{"X-Nightshift-Secret": "$NIGHTSHIFT_SECRET"}` with a hidden custom variable holding the value.
 */
export const DATADOG_SECRET_HEADER = 'X-Nightshift-Secret';

/** Checks the shared-secret header in constant time; never throws. */
export function authenticateDatadog(headers: WebhookHeaders, secret: string): AuthResult {
  const presented = headers[DATADOG_SECRET_HEADER.toLowerCase()];
  if (!presented)
    return unauthorized(`missing ${DATADOG_SECRET_HEADER} header (set it in the webhook's custom headers)`);
  return sameSecret(presented.trim(), secret)
    ? AUTHENTICATED
    : unauthorized(`the ${DATADOG_SECRET_HEADER} header does not match`);
}
