import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { redact, redactText } from './redact.js';

/**
 * Canaries: a secret of every kind the pattern set promises to catch, in the context it is
 * usually found in. Each `secret` part must be gone after redaction, and the replacement must name
 * what was found.
 */
const CANARIES: ReadonlyArray<{ name: string; text: string; secret: string; kind: string }> = [
  {
    name: 'bearer header',
    text: 'Authorization: Bearer c4n4ryB34rerT0k3nXyZ',
    secret: 'c4n4ryB34rerT0k3nXyZ',
    kind: 'authorization',
  },
  {
    name: 'basic header in curl',
    text: 'curl -H "Authorization: Basic Y2FuYXJ5OnBhc3M=" http://svc',
    secret: 'Y2FuYXJ5OnBhc3M=',
    kind: 'authorization',
  },
  {
    name: 'bare bearer',
    text: 'sent bearer eyCanaryOpaqueToken0001 upstream',
    secret: 'eyCanaryOpaqueToken0001',
    kind: 'bearer',
  },
  {
    name: 'api_key assignment',
    text: 'GET /v1/rates?api_key=canaryK3y998877&q=1',
    secret: 'canaryK3y998877',
    kind: 'secret',
  },
  {
    name: 'api-key header',
    text: 'X-Api-Key: canaryHeaderKey123',
    secret: 'canaryHeaderKey123',
    kind: 'secret',
  },
  {
    name: 'Anthropic key',
    text: 'using sk-ant-api03-CANARYcanaryCANARY_canary-0123',
    secret: 'sk-ant-api03-CANARYcanaryCANARY_canary-0123',
    kind: 'anthropic-key',
  },
  {
    name: 'Slack bot token',
    text: 'token xoxb-123456789012-CanaryBotTok3n',
    secret: 'xoxb-123456789012-CanaryBotTok3n',
    kind: 'slack-token',
  },
  {
    name: 'Slack user token',
    text: 'xoxp-9876543210-Canary-User-Token',
    secret: 'xoxp-9876543210-Canary-User-Token',
    kind: 'slack-token',
  },
  {
    name: 'Slack app token',
    text: 'xapp-1-A0CANARY-1234-abcdef',
    secret: 'xapp-1-A0CANARY-1234-abcdef',
    kind: 'slack-token',
  },
  {
    name: 'GitHub classic token',
    text: 'git clone with ghp_CanaryCanaryCanaryCanaryCanary1234',
    secret: 'ghp_CanaryCanaryCanaryCanaryCanary1234',
    kind: 'github-token',
  },
  {
    name: 'GitHub OAuth token',
    text: 'gho_CanaryCanaryCanaryCanaryCanary5678',
    secret: 'gho_CanaryCanaryCanaryCanaryCanary5678',
    kind: 'github-token',
  },
  {
    name: 'GitHub fine-grained token',
    text: 'github_pat_11CANARY0_CanaryCanaryCanaryCanaryCanary',
    secret: 'github_pat_11CANARY0_CanaryCanaryCanaryCanaryCanary',
    kind: 'github-token',
  },
  {
    name: 'Datadog API key in env',
    text: 'DD_API_KEY=c0ffee00c0ffee00c0ffee00c0ffee00',
    secret: 'c0ffee00c0ffee00c0ffee00c0ffee00',
    kind: 'secret',
  },
  {
    name: 'Datadog app key header',
    text: 'DD-APPLICATION-KEY: deadbeefdeadbeefdeadbeefdeadbeefdeadbeef',
    secret: 'deadbeefdeadbeefdeadbeefdeadbeefdeadbeef',
    kind: 'secret',
  },
  {
    name: 'password in URL',
    text: 'connecting to postgres://orders:Canary-Pa55@db.shop:5432/orders',
    secret: 'Canary-Pa55',
    kind: 'password',
  },
  {
    name: 'password in redis URL',
    text: 'REDIS_URL=redis://:canaryRedisPass@redis-session:6379/0',
    secret: 'canaryRedisPass',
    kind: 'password',
  },
  {
    name: 'password assignment',
    text: 'login failed: password="canary-hunter2"',
    secret: 'canary-hunter2',
    kind: 'secret',
  },
  {
    name: 'JSON password',
    text: '{"user":"app","password":"canaryJsonPw"}',
    secret: 'canaryJsonPw',
    kind: 'secret',
  },
  {
    name: 'AWS access key id',
    text: 'aws key AKIACANARY1234567890 rejected',
    secret: 'AKIACANARY1234567890',
    kind: 'aws-access-key',
  },
  {
    name: 'AWS secret key',
    text: 'aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYCANARYKEY',
    secret: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYCANARYKEY',
    kind: 'aws-secret',
  },
  {
    name: 'PEM private key',
    text: 'key: -----BEGIN RSA PRIVATE KEY-----\nMIIEpQIBAAKCAQEAcanaryPEMbody\nQWERTYcanary==\n-----END RSA PRIVATE KEY----- loaded',
    secret: 'MIIEpQIBAAKCAQEAcanaryPEMbody',
    kind: 'private-key',
  },
  {
    name: 'OpenSSH private key cut short',
    text: '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEcanary',
    secret: 'b3BlbnNzaC1rZXktdjEcanary',
    kind: 'private-key',
  },
  {
    name: 'GCP service account private_key',
    text: '{"type":"service_account","private_key_id":"abc","private_key":"-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANcanaryGCP\\n-----END PRIVATE KEY-----\\n"}',
    secret: 'MIIEvQIBADANcanaryGCP',
    kind: 'private-key',
  },
  {
    name: 'JWT',
    text: 'cookie session=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjYW5hcnkifQ.c2lnbmF0dXJlQ2FuYXJ5',
    secret: 'eyJzdWIiOiJjYW5hcnkifQ',
    kind: 'jwt',
  },
  {
    name: 'Slack webhook URL',
    text: 'posting to https://hooks.slack.com/services/T0CANARY/B0CANARY/CanaryWebhookSecret',
    secret: 'CanaryWebhookSecret',
    kind: 'slack-webhook',
  },
  {
    name: 'Google API key',
    text: 'maps key AIzaSyCanaryCanaryCanaryCanaryCanary123',
    secret: 'AIzaSyCanaryCanaryCanaryCanaryCanary123',
    kind: 'google-api-key',
  },
];

/** Ordinary operational text that must pass through untouched. */
const ORDINARY = [
  'commit 6113728f27ae82c7b1a177c8d03f9e96e0adf246 merged into master',
  'request b9cc2b01-9250-4360-941f-40e522628f6c took 1200ms',
  'Pod default/payment-processing-worker-747ccfb9db-pd6wz (payment-processing-container) is in waiting state (reason: "CrashLoopBackOff").',
  'http://robusta-kube-prometheus-st-prometheus.default:9090/graph?g0.expr=max_over_time%28kube%29&g0.tab=1',
  'https://runbooks.prometheus-operator.dev/runbooks/kubernetes/kubepodcrashlooping',
  'max_tokens: 1024 and tokens=5; password: required; token: null',
  'the bearer of bad news',
  'secretName: db-credentials mounted at /etc/secret',
  'sha256:0b1d583ea7b9e48ae103c635877c5ad8461431f2ba32083322037b28b01bd3a9',
  'image ghcr.io/shop/checkout@sha256:c1cab5f4e9bc7d5c85665397a008a2a0410e9db8fb566d347c30f85fe5526292',
  'user alice logged in from 10.0.0.7 at 2026-01-01T10:00:00Z',
  'Authorization failed for user bob',
  'kube_namespace:shop,kube_deployment:checkout,service:checkout',
];

describe('redaction', () => {
  it.each(CANARIES)('removes a $name', ({ text, secret, kind }) => {
    const { value, counts } = redactText(text);
    expect(value).not.toContain(secret);
    expect(value).toContain(`[REDACTED:${kind}]`);
    expect(counts.total).toBeGreaterThan(0);
  });

  it('keeps what says what was removed', () => {
    expect(redactText('Authorization: Bearer c4n4ryB34rerT0k3nXyZ').value).toBe(
      'Authorization: Bearer [REDACTED:authorization]',
    );
    expect(redactText('postgres://orders:Canary-Pa55@db.shop:5432/orders').value).toBe(
      'postgres://orders:[REDACTED:password]@db.shop:5432/orders',
    );
    expect(redactText('DD_API_KEY=c0ffee00c0ffee00c0ffee00c0ffee00 next').value).toBe(
      'DD_API_KEY=[REDACTED:secret] next',
    );
  });

  it.each(ORDINARY)('leaves ordinary text alone: %s', (text) => {
    const { value, counts } = redactText(text);
    expect(value).toBe(text);
    expect(counts.total).toBe(0);
  });

  it('walks objects and arrays, replaces sensitive fields whole, and counts by pattern', () => {
    const input = {
      labels: { namespace: 'shop', dd_api_key: 'c0ffee00c0ffee00' },
      notes: ['fine', 'password=canaryNested1', { 'X-Api-Key': 'canaryField', token: 'x' }],
      count: 3,
      enabled: true,
      nothing: null,
      'postgres://u:canaryKeyPw@db/x': 'a key holding a URL',
    };
    const { value, counts } = redact(input);
    const text = JSON.stringify(value);
    for (const secret of ['c0ffee00c0ffee00', 'canaryNested1', 'canaryField', 'canaryKeyPw']) {
      expect(text).not.toContain(secret);
    }
    expect(value.labels.namespace).toBe('shop');
    expect(value.count).toBe(3);
    expect(value.enabled).toBe(true);
    expect(value.nothing).toBeNull();
    expect(counts.byPattern['sensitive-field']).toBe(3);
    expect(counts.byPattern.secret).toBe(1);
    expect(counts.byPattern.password).toBe(1);
    expect(counts.total).toBe(5);
    expect(input.labels.dd_api_key).toBe('c0ffee00c0ffee00');
  });

  it('replaces nesting deeper than the walk allows instead of recursing without end', () => {
    let deep: unknown = 'password=canaryDeep';
    for (let level = 0; level < 200; level++) deep = [deep];
    const { value } = redact(deep);
    expect(JSON.stringify(value)).not.toContain('canaryDeep');
  });

  it('is idempotent and never throws, whatever the text (property)', () => {
    const canaryText = fc.constantFrom(...CANARIES.map((canary) => canary.text), ...ORDINARY);
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), canaryText), { maxLength: 5 }),
        (parts) => {
          const text = parts.join(' ');
          const once = redactText(text).value;
          expect(redactText(once).value).toBe(once);
          expect(redactText(once).counts.total).toBe(0);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('removes a canary wherever it is embedded (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...CANARIES),
        fc.constantFrom('', 'x ', 'log: ', '\n', '{"m":"', '… '),
        fc.constantFrom('', ' done', '\n', '"}', ' …'),
        (canary, before, after) => {
          expect(redactText(`${before}${canary.text}${after}`).value).not.toContain(canary.secret);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
