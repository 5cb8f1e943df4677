import { createHmac, timingSafeEqual } from 'node:crypto';

/** Slack's v0 request signature: `v0=` + hex HMAC-SHA256(secret, `v0:{timestamp}:{body}`). */
export function slackSignature(signingSecret: string, timestampSeconds: number, body: string): string {
  return `v0=${createHmac('sha256', signingSecret).update(`v0:${timestampSeconds}:${body}`).digest('hex')}`;
}

/** True when `signature` is the v0 signature of the body at that timestamp. */
export function verifySlackSignature(
  signingSecret: string,
  timestampSeconds: number,
  body: string,
  signature: string,
): boolean {
  const expected = Buffer.from(slackSignature(signingSecret, timestampSeconds, body));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
