import { describe, expect, it } from 'vitest';
import { RecordingSink } from '../../src/ingest/recording-sink.js';
import { signalSchema } from '../../src/ingest/signal.js';
import { listen } from '../../src/server/http.js';
import { fixture, fixtures, GITHUB_EVENT_OF, type FixtureSource } from './fixtures.js';
import {
  genuineHeaders,
  post,
  secretsFrom,
  TEST_SECRETS,
  WEBHOOK_NAMES,
  webhookApp,
  type ErrorBody,
  type WebhookName,
} from './webhook-kit.js';

function setup(bodyLimitBytes?: number) {
  const sink = new RecordingSink();
  return { sink, app: webhookApp({ sink, ...(bodyLimitBytes ? { bodyLimitBytes } : {}) }) };
}

async function errorOf(response: Response): Promise<ErrorBody['error']> {
  expect(response.headers.get('content-type')).toContain('application/json');
  return ((await response.json()) as ErrorBody).error;
}

const SOURCES: ReadonlyArray<[WebhookName, FixtureSource]> = [
  ['alertmanager', 'alertmanager'],
  ['datadog', 'datadog'],
  ['pagerduty', 'pagerduty'],
  ['github', 'github'],
];

describe('the webhook routes', () => {
  it.each(SOURCES)(
    'accept every recorded %s body with 202 and hand its signals to the sink once',
    async (name, source) => {
      for (const { name: fixtureName, text } of fixtures(source)) {
        const { sink, app } = setup();
        const response = await post(
          app,
          name,
          text,
          genuineHeaders(name, text, GITHUB_EVENT_OF[fixtureName]),
        );
        expect(response.status, fixtureName).toBe(202);
        const report = (await response.json()) as { accepted: number; deduplicated: number };
        expect(report.deduplicated).toBe(0);
        expect(sink.signals).toHaveLength(report.accepted);
        expect(sink.batches.length, fixtureName).toBe(report.accepted > 0 ? 1 : 0);
        for (const signal of sink.signals) {
          expect(signalSchema.parse(signal)).toEqual(signal);
          expect(signal.source).toBe(name);
        }
        if (report.accepted > 0) expect(sink.batches[0]?.context.channel).toBe(`webhook/${name}`);
      }
    },
  );

  it('pass the sender delivery id and the request id to the sink', async () => {
    const { sink, app } = setup();
    const { text } = fixture('github', 'push-new-branch');
    const response = await post(app, 'github', text, genuineHeaders('github', text, 'push'));
    expect(response.status).toBe(202);
    expect(sink.batches[0]?.context).toMatchObject({
      deliveryId: '72d3162e-cc78-11e3-81ab-4c9367dc0958',
      requestId: response.headers.get('x-request-id'),
    });
  });

  it('answer 202 with nothing accepted, and never call the sink, for deliveries that carry nothing to ingest', async () => {
    const { sink, app } = setup();
    const check = fixture('github', 'check-run-completed').text;
    const service = fixture('pagerduty', 'service-updated').text;
    const empty = JSON.stringify({ version: '4', alerts: [] });
    for (const [name, body, event] of [
      ['github', check, 'check_run'],
      ['pagerduty', service, undefined],
      ['alertmanager', empty, undefined],
    ] as const) {
      const response = await post(app, name, body, genuineHeaders(name, body, event));
      expect(response.status).toBe(202);
      expect(await response.json()).toEqual({ accepted: 0, deduplicated: 0 });
    }
    expect(sink.batches).toEqual([]);
  });

  describe('authentication', () => {
    const body = fixture('alertmanager', 'kube-pod-crash-looping-firing').text;

    it.each(WEBHOOK_NAMES)(
      'refuse a %s delivery without credentials with 401 naming what is missing',
      async (name) => {
        const { sink, app } = setup();
        const response = await post(app, name, body, {
          'content-type': 'application/json',
          'x-github-event': 'push',
        });
        expect(response.status).toBe(401);
        const error = await errorOf(response);
        expect(error.code).toBe('unauthorized');
        expect(error.message).toMatch(/missing/i);
        expect(sink.batches).toEqual([]);
      },
    );

    it.each(WEBHOOK_NAMES)('refuse a forged %s delivery with 401', async (name) => {
      const { sink, app } = setup();
      const forged: Record<WebhookName, Record<string, string>> = {
        alertmanager: { authorization: 'Bearer not-the-token' },
        datadog: { 'x-nightshift-secret': 'not-the-secret' },
        pagerduty: { 'x-pagerduty-signature': `v1=${'0'.repeat(64)}` },
        github: { 'x-github-event': 'push', 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` },
      };
      const response = await post(app, name, body, forged[name]);
      expect(response.status).toBe(401);
      expect((await errorOf(response)).code).toBe('unauthorized');
      expect(sink.batches).toEqual([]);
    });

    it('refuse a body changed after signing', async () => {
      const { sink, app } = setup();
      for (const name of ['pagerduty', 'github'] as const) {
        const headers = genuineHeaders(name, body);
        const response = await post(app, name, body.replace('firing', 'resolved'), headers);
        expect(response.status).toBe(401);
      }
      expect(sink.batches).toEqual([]);
    });

    it('accept Alertmanager basic auth with the token as password, and challenge a 401 with Bearer', async () => {
      const { app } = setup();
      const basic = `Basic ${Buffer.from(`alertmanager:${TEST_SECRETS.alertmanagerToken}`).toString('base64')}`;
      expect((await post(app, 'alertmanager', body, { authorization: basic })).status).toBe(202);
      const refused = await post(app, 'alertmanager', body, {});
      expect(refused.headers.get('www-authenticate')).toBe('Bearer realm="nightshift"');
    });

    it('check credentials before reading the body, so an unauthenticated sender learns nothing about it', async () => {
      const { app } = setup();
      const response = await post(app, 'datadog', '{not json', {});
      expect(response.status).toBe(401);
    });
  });

  it('answer 404 not_configured, naming the setting, for a webhook whose secret is not set', async () => {
    const sink = new RecordingSink();
    const app = webhookApp({
      sink,
      secrets: secretsFrom({ alertmanagerToken: TEST_SECRETS.alertmanagerToken }),
    });
    for (const [name, env] of [
      ['datadog', 'NIGHTSHIFT_DATADOG_WEBHOOK_SECRET'],
      ['pagerduty', 'PAGERDUTY_WEBHOOK_SECRET'],
      ['github', 'GITHUB_WEBHOOK_SECRET'],
    ] as const) {
      const response = await post(app, name, '{}', genuineHeaders(name, '{}'));
      expect(response.status).toBe(404);
      const error = await errorOf(response);
      expect(error.code).toBe('not_configured');
      expect(error.message).toContain(env);
    }
    const body = fixture('alertmanager', 'watchdog-firing').text;
    expect((await post(app, 'alertmanager', body, genuineHeaders('alertmanager', body))).status).toBe(202);
  });

  describe('bad bodies', () => {
    it.each(WEBHOOK_NAMES)(
      'refuse malformed, empty, non-UTF-8 and over-deep %s bodies with 400 invalid_json',
      async (name) => {
        const { sink, app } = setup();
        const bodies: Array<[string | Uint8Array, RegExp]> = [
          ['{"alerts": [', /not valid JSON/],
          ['', /empty/],
          ['   \n', /empty/],
          [new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), /UTF-8/],
          ['['.repeat(100) + ']'.repeat(100), /deeper than 64/],
          ['{"a":1} trailing', /not valid JSON/],
        ];
        for (const [body, message] of bodies) {
          const response = await post(app, name, body, genuineHeaders(name, body));
          expect(response.status).toBe(400);
          const error = await errorOf(response);
          expect(error.code).toBe('invalid_json');
          expect(error.message).toMatch(message);
        }
        expect(sink.batches).toEqual([]);
      },
    );

    it('refuse a body that is JSON but not the source format with 422 naming the field paths', async () => {
      const { sink, app } = setup();
      const cases: Array<[WebhookName, unknown, string[], string?]> = [
        [
          'alertmanager',
          { alerts: [{ status: 'firing', labels: { a: 1 }, startsAt: 'x' }] },
          ['alerts.0.labels.a', 'alerts.0.startsAt'],
        ],
        ['alertmanager', [1, 2], ['(body)']],
        ['datadog', { title: 'x' }, ['transition', 'aggregationKey']],
        [
          'pagerduty',
          {
            event: {
              id: 'e',
              event_type: 'incident.resolved',
              occurred_at: '2026-01-01T00:00:00Z',
              data: { id: 7 },
            },
          },
          ['event.data.id'],
        ],
        ['github', { ref: 'refs/heads/main' }, ['after', 'before', 'repository'], 'push'],
      ];
      for (const [name, value, paths, event] of cases) {
        const body = JSON.stringify(value);
        const response = await post(app, name, body, genuineHeaders(name, body, event));
        expect(response.status, name).toBe(422);
        const error = await errorOf(response);
        expect(error.code).toBe('invalid_payload');
        expect(error.details?.issues?.map((issue) => issue.path).sort()).toEqual([...paths].sort());
        for (const path of paths) expect(error.message).toContain(path);
      }
      expect(sink.batches).toEqual([]);
    });

    it('refuse a body over the server limit with 413 before authentication', async () => {
      const { sink, app } = setup(4096);
      const huge = JSON.stringify({ version: '4', alerts: [], padding: 'x'.repeat(8192) });
      for (const name of WEBHOOK_NAMES) {
        const response = await post(app, name, huge, genuineHeaders(name, huge));
        expect(response.status).toBe(413);
        expect((await errorOf(response)).code).toBe('payload_too_large');
      }
      expect(sink.batches).toEqual([]);
    });
  });

  it('behave the same over a real HTTP server, where senders send Content-Length', async () => {
    const sink = new RecordingSink();
    const server = await listen(webhookApp({ sink, bodyLimitBytes: 4096 }), '127.0.0.1', 0);
    try {
      const body = fixture('alertmanager', 'kube-pod-crash-looping-firing').text;
      const accepted = await fetch(`${server.url}/webhooks/alertmanager`, {
        method: 'POST',
        body,
        headers: genuineHeaders('alertmanager', body),
      });
      expect(accepted.status).toBe(202);
      expect(await accepted.json()).toEqual({ accepted: 1, deduplicated: 0 });
      const huge = `{"padding":"${'x'.repeat(5000)}"}`;
      const refused = await fetch(`${server.url}/webhooks/alertmanager`, {
        method: 'POST',
        body: huge,
        headers: genuineHeaders('alertmanager', huge),
      });
      expect(refused.status).toBe(413);
      expect(sink.batches).toHaveLength(1);
    } finally {
      await server.close();
    }
  });

  describe('durability', () => {
    it('answer 503 with Retry-After when the sink cannot queue, and 202 once it can', async () => {
      const { sink, app } = setup();
      const body = fixture('pagerduty', 'incident-triggered').text;
      sink.failNext();
      const refused = await post(app, 'pagerduty', body, genuineHeaders('pagerduty', body));
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('5');
      const error = await errorOf(refused);
      expect(error.code).toBe('unavailable');
      expect(error.details?.requestId).toBe(refused.headers.get('x-request-id'));
      expect(sink.batches).toEqual([]);
      const retried = await post(app, 'pagerduty', body, genuineHeaders('pagerduty', body));
      expect(retried.status).toBe(202);
      expect(sink.signals).toHaveLength(1);
    });
  });

  describe('redaction', () => {
    const CANARIES = {
      bearer: 'Cn4ryBearerTok3n9876',
      password: 'canaryUrlPassw0rd',
      github: 'ghp_CanaryCanaryCanaryCanaryCanaryZZZZ',
      slack: 'xoxb-111122223333-CanaryWebhookTok',
      aws: 'AKIACANARY9876543210',
      jwt: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjYW5hcnkifQ.c2lnbmF0dXJlQ2FuYXJ5',
      anthropic: 'sk-ant-api03-CanaryAnthropicKey_0987',
      pem: 'MIIEpAIBAAKCAQEAcanaryPemBody',
    };
    const leaky = [
      `probe failed: Authorization: Bearer ${CANARIES.bearer}`,
      `dsn postgres://orders:${CANARIES.password}@db:5432/orders`,
      `token ${CANARIES.github} and ${CANARIES.slack}`,
      `aws ${CANARIES.aws} jwt ${CANARIES.jwt}`,
      `key ${CANARIES.anthropic}`,
      `-----BEGIN PRIVATE KEY-----\n${CANARIES.pem}\n-----END PRIVATE KEY-----`,
    ].join('\n');

    function assertClean(sink: RecordingSink): void {
      expect(sink.signals.length).toBeGreaterThan(0);
      const queued = JSON.stringify(sink.batches);
      for (const [kind, canary] of Object.entries(CANARIES)) expect(queued, kind).not.toContain(canary);
    }

    it('never lets a canary in an alert reach the sink', async () => {
      const { sink, app } = setup();
      const alert = structuredClone(fixture('alertmanager', 'kube-pod-crash-looping-firing').body) as {
        alerts: Array<{ annotations: Record<string, string>; labels: Record<string, string> }>;
      };
      const first = alert.alerts[0];
      if (!first) throw new Error('fixture without an alert');
      first.annotations.description = leaky;
      first.annotations.summary = `crash with bearer ${CANARIES.bearer}`;
      first.labels.password = CANARIES.password;
      const body = JSON.stringify(alert);
      expect((await post(app, 'alertmanager', body, genuineHeaders('alertmanager', body))).status).toBe(202);
      assertClean(sink);
      expect(sink.signals[0]?.summary).toContain('[REDACTED:');
    });

    it('never lets a canary in a Datadog message, a PagerDuty note or a commit message reach the sink', async () => {
      const { sink, app } = setup();
      const datadog = {
        ...(fixture('datadog', 'monitor-triggered').body as object),
        message: leaky,
        title: `High errors ${CANARIES.jwt}`,
      };
      const note = structuredClone(fixture('pagerduty', 'incident-annotated').body) as {
        event: { data: { content: string } };
      };
      note.event.data.content = leaky;
      const push = structuredClone(fixture('github', 'push-new-branch').body) as {
        commits: Array<{ message: string }>;
        head_commit: { message: string };
      };
      push.head_commit.message = leaky;
      for (const commit of push.commits) commit.message = leaky;
      for (const [name, value, event] of [
        ['datadog', datadog, undefined],
        ['pagerduty', note, undefined],
        ['github', push, 'push'],
      ] as const) {
        const body = JSON.stringify(value);
        expect((await post(app, name, body, genuineHeaders(name, body, event))).status, name).toBe(202);
      }
      expect(sink.batches).toHaveLength(3);
      assertClean(sink);
    });
  });
});
