import type { WebhookHeaders } from '../../parse.js';
import { AUTHENTICATED, sameSecret, unauthorized, type AuthResult } from '../authentication.js';

/**
 * Checks the credentials Alertmanager's `http_config` sends: `Authorization: Bearer <token>`
 * (`authorization.credentials` or the older `bearer_token`) or basic auth whose password is the
 * token (`basic_auth`, any username). Constant-time; never throws.
 */
export function authenticateAlertmanager(headers: WebhookHeaders, token: string): AuthResult {
  const header = headers.authorization?.trim();
  if (!header) {
    return unauthorized(
      'missing Authorization header: configure http_config.authorization (Bearer) or basic_auth with the token as password',
    );
  }
  const space = header.indexOf(' ');
  const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
  const credentials = space < 0 ? '' : header.slice(space + 1).trim();
  if (scheme === 'bearer') {
    return credentials && sameSecret(credentials, token)
      ? AUTHENTICATED
      : unauthorized('the bearer token does not match');
  }
  if (scheme === 'basic') {
    const decoded = Buffer.from(credentials, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const password = colon < 0 ? '' : decoded.slice(colon + 1);
    return password && sameSecret(password, token)
      ? AUTHENTICATED
      : unauthorized('the basic auth password does not match the token');
  }
  return unauthorized('unsupported Authorization scheme: use Bearer or Basic');
}
