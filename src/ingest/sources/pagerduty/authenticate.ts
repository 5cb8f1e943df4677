import { createHmac } from 'node:crypto';
import type { WebhookHeaders } from '../../parse.js';
import { AUTHENTICATED, sameSecret, unauthorized, type AuthResult } from '../authentication.js';

/** At most this many signatures are read from one header (PagerDuty sends one per active secret). */
const MAX_SIGNATURES = 8;

/**
 * Verifies `X-PagerDuty-Signature` on a webhooks v3 delivery: `v1=<hex HMAC-SHA256 of the raw
 * body>`, possibly several comma-separated during a secret rotation; any match passes. Other
 * versions are ignored. PagerDuty signs no timestamp, so replays are caught by deduplication, not
 * here. Constant-time; never throws.
 */
export function verifyPagerDutySignature(
  headers: WebhookHeaders,
  body: Uint8Array,
  secret: string,
): AuthResult {
  const header = headers['x-pagerduty-signature'];
  if (!header) return unauthorized('missing X-PagerDuty-Signature header');
  const expected = `v1=${createHmac('sha256', secret).update(body).digest('hex')}`;
  const candidates = header
    .split(',')
    .slice(0, MAX_SIGNATURES)
    .map((part) => part.trim())
    .filter((part) => part.startsWith('v1='));
  if (candidates.length === 0) return unauthorized('X-PagerDuty-Signature holds no v1 signature');
  let matched = false;
  for (const candidate of candidates) matched = sameSecret(candidate.toLowerCase(), expected) || matched;
  return matched ? AUTHENTICATED : unauthorized('no X-PagerDuty-Signature matches the body');
}
