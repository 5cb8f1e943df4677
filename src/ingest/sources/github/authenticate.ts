import { Webhooks } from '@octokit/webhooks';
import { createHmac } from 'node:crypto';
import type { WebhookHeaders } from '../../parse.js';
import { AUTHENTICATED, sameSecret, unauthorized, type AuthResult } from '../authentication.js';

/** Verifies GitHub deliveries against one webhook secret. */
export interface GithubVerifier {
  /**
   * Checks `X-Hub-Signature-256` (`sha256=<hex HMAC-SHA256>` of the raw body) in constant time.
   * GitHub signs no timestamp; replays are caught by deduplication. Never throws.
   */
  verify(headers: WebhookHeaders, body: Uint8Array | string): Promise<AuthResult>;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A verifier for `secret`; build it once and reuse it. Bodies are verified with
 * @octokit/webhooks, which takes text; a body that is empty or not UTF-8 (which octokit cannot
 * take without changing its bytes) is verified over its raw bytes here, the same way.
 */
export function createGithubVerifier(secret: string): GithubVerifier {
  const webhooks = new Webhooks({ secret });
  const overBytes = (bytes: Uint8Array): string =>
    `sha256=${createHmac('sha256', secret).update(bytes).digest('hex')}`;
  return {
    async verify(headers, body) {
      const signature = headers['x-hub-signature-256'];
      if (!signature) return unauthorized('missing X-Hub-Signature-256 header');
      if (!signature.startsWith('sha256='))
        return unauthorized('X-Hub-Signature-256 must start with sha256=');
      const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
      let text: string | undefined;
      try {
        text = typeof body === 'string' ? body : utf8.decode(bytes);
      } catch {
        text = undefined;
      }
      let matches = false;
      try {
        matches = text ? await webhooks.verify(text, signature) : sameSecret(signature, overBytes(bytes));
      } catch {
        matches = false;
      }
      return matches ? AUTHENTICATED : unauthorized('X-Hub-Signature-256 does not match the body');
    },
  };
}
