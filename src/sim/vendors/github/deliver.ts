import { createHmac, randomUUID } from 'node:crypto';

/** What the receiver answered, and the delivery id sent. */
export interface GithubDeliveryResult {
  status: number;
  body: string;
  deliveryId: string;
}

/** `sha256=` + hex HMAC-SHA256 of the body with the webhook secret (X-Hub-Signature-256). */
export function githubSignature256(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Options of one delivery. */
export interface GithubDeliveryOptions {
  /** The X-GitHub-Delivery id; a random UUID when absent. */
  deliveryId?: string;
  /** The hook id header value. Default 1. */
  hookId?: number;
  timeoutMs?: number;
}

/**
 * POSTs a webhook as GitHub does: JSON body, X-GitHub-Event, X-GitHub-Delivery,
 * X-Hub-Signature-256 (and the legacy sha1 X-Hub-Signature). Never retries; rejects only on
 * network failure.
 */
export async function deliverGithub(
  targetUrl: string,
  secret: string,
  event: string,
  payload: unknown,
  options: GithubDeliveryOptions = {},
): Promise<GithubDeliveryResult> {
  const body = JSON.stringify(payload);
  const deliveryId = options.deliveryId ?? randomUUID();
  const response = await fetch(targetUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'user-agent': 'GitHub-Hookshot/sim',
      'x-github-event': event,
      'x-github-delivery': deliveryId,
      'x-github-hook-id': String(options.hookId ?? 1),
      'x-github-hook-installation-target-type': 'repository',
      'x-hub-signature': `sha1=${createHmac('sha1', secret).update(body).digest('hex')}`,
      'x-hub-signature-256': githubSignature256(secret, body),
    },
    body,
    signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
  });
  return { status: response.status, body: await response.text(), deliveryId };
}
