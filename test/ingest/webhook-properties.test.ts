import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RecordingSink } from '../../src/ingest/recording-sink.js';
import { signalSchema } from '../../src/ingest/signal.js';
import { GITHUB_EVENTS } from '../../src/ingest/sources/github/parse.js';
import { fixtures, type FixtureSource } from './fixtures.js';
import {
  genuineHeaders,
  post,
  WEBHOOK_NAMES,
  webhookApp,
  type ErrorBody,
  type WebhookName,
} from './webhook-kit.js';

/**
 * Property tests over thousands of generated bodies per webhook: whatever arrives, the answer is
 * never a 5xx, a refusal is always a JSON error that names the problem, and the sink is called
 * once with every signal of an accepted request, or not at all.
 */

const RUNS = Number(process.env.NIGHTSHIFT_PROPERTY_RUNS ?? 1000);

type Path = Array<string | number>;

function pathsOf(value: unknown, prefix: Path = [], into: Path[] = []): Path[] {
  into.push(prefix);
  if (Array.isArray(value)) value.forEach((item, index) => pathsOf(item, [...prefix, index], into));
  else if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) pathsOf(item, [...prefix, key], into);
  }
  return into;
}

type Mutation = { kind: 'delete' } | { kind: 'replace'; value: unknown };

function mutate(value: unknown, path: Path, mutation: Mutation): unknown {
  if (path.length === 0) return mutation.kind === 'delete' ? undefined : mutation.value;
  const copy = structuredClone(value) as Record<string | number, unknown>;
  let parent: Record<string | number, unknown> = copy;
  for (const part of path.slice(0, -1)) parent = parent[part] as Record<string | number, unknown>;
  const last = path[path.length - 1] as string | number;
  if (mutation.kind === 'delete') {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  } else parent[last] = mutation.value;
  return copy;
}

const SOURCE_OF: Record<WebhookName, FixtureSource> = {
  alertmanager: 'alertmanager',
  datadog: 'datadog',
  pagerduty: 'pagerduty',
  github: 'github',
};

const wrongValue = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double(),
  fc.string({ maxLength: 20 }),
  fc.constant(''),
  fc.constant([]),
  fc.constant({}),
  fc.jsonValue({ maxDepth: 3 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
);

/** A body: random text, random JSON, or a real body with one field deleted or changed. */
function bodyArbitrary(name: WebhookName): fc.Arbitrary<string> {
  const real = fixtures(SOURCE_OF[name]).map((item) => item.body);
  const mutated = fc
    .constantFrom(...real)
    .chain((body) => {
      const paths = pathsOf(body);
      return fc.tuple(
        fc.constant(body),
        fc.constantFrom(...paths),
        fc.oneof(
          fc.constant<Mutation>({ kind: 'delete' }),
          wrongValue.map((value): Mutation => ({ kind: 'replace', value })),
        ),
      );
    })
    .map(([body, path, mutation]) => JSON.stringify(mutate(body, path, mutation)) ?? 'undefined');
  const truncated = fc.constantFrom(...real).chain((body) => {
    const text = JSON.stringify(body);
    return fc.integer({ min: 0, max: text.length }).map((cut) => text.slice(0, cut));
  });
  return fc.oneof(
    { weight: 3, arbitrary: mutated },
    { weight: 1, arbitrary: truncated },
    { weight: 1, arbitrary: fc.json({ maxDepth: 4 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '{',
        '[]',
        'null',
        '""',
        '{"alerts":null}',
        '{"event":{}}',
        '1e999',
        '{"__proto__":{"x":1}}',
      ),
    },
  );
}

const githubEvent = fc.oneof(
  fc.constantFrom(...GITHUB_EVENTS),
  fc.constantFrom('ping', 'issues', ''),
  fc.string({ maxLength: 12 }),
);

async function expectRefusalShape(
  response: Response,
  allowed: readonly string[],
): Promise<ErrorBody['error']> {
  expect(response.headers.get('content-type')).toContain('application/json');
  const body = (await response.json()) as ErrorBody;
  expect(allowed).toContain(body.error.code);
  expect(body.error.message.length).toBeGreaterThan(5);
  return body.error;
}

describe.each(WEBHOOK_NAMES)('the %s webhook under generated input', (name) => {
  it(`never answers 5xx to ${RUNS * 2} authenticated bodies; refusals name the problem; the sink sees all or nothing`, async () => {
    const sink = new RecordingSink();
    const app = webhookApp({ sink });
    await fc.assert(
      fc.asyncProperty(bodyArbitrary(name), githubEvent, async (body, event) => {
        const before = sink.batches.length;
        const response = await post(app, name, body, genuineHeaders(name, body, event));
        expect(response.status).toBeLessThan(500);
        if (response.status === 202) {
          const report = (await response.json()) as { accepted: number; deduplicated: number };
          expect(sink.batches.length).toBe(before + (report.accepted > 0 ? 1 : 0));
          if (report.accepted > 0) {
            const batch = sink.batches[sink.batches.length - 1];
            expect(batch?.signals).toHaveLength(report.accepted);
            for (const signal of batch?.signals ?? [])
              expect(signalSchema.safeParse(signal).success).toBe(true);
          }
          return;
        }
        expect([400, 422]).toContain(response.status);
        const error = await expectRefusalShape(
          response,
          response.status === 400 ? ['invalid_json'] : ['invalid_payload'],
        );
        if (response.status === 422) {
          expect(error.details?.issues?.length).toBeGreaterThan(0);
          for (const issue of error.details?.issues ?? []) expect(issue.path.length).toBeGreaterThan(0);
        }
        expect(sink.batches.length).toBe(before);
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it(`refuses ${RUNS} bodies with missing or forged credentials with 401 and never calls the sink`, async () => {
    const sink = new RecordingSink();
    const app = webhookApp({ sink });
    const forgedHeaders = fc.oneof(
      fc.constant<Record<string, string>>({}),
      fc.string({ maxLength: 80 }).map((value) => ({
        authorization: value,
        'x-nightshift-secret': value,
        'x-pagerduty-signature': value,
        'x-hub-signature-256': value,
      })),
      fc.stringMatching(/^[0-9a-f]{64}$/).map((hex) => ({
        authorization: `Bearer ${hex}`,
        'x-nightshift-secret': hex,
        'x-pagerduty-signature': `v1=${hex}`,
        'x-hub-signature-256': `sha256=${hex}`,
      })),
      fc.stringMatching(/^[A-Za-z0-9+/]{4,40}$/).map((value) => ({ authorization: `Basic ${value}` })),
    );
    await fc.assert(
      fc.asyncProperty(bodyArbitrary(name), forgedHeaders, async (body, headers) => {
        const response = await post(app, name, body, { 'x-github-event': 'push', ...headers });
        expect(response.status).toBe(401);
        const error = await expectRefusalShape(response, ['unauthorized']);
        expect(error.message).toMatch(/missing|match|unsupported|must|no v1/i);
      }),
      { numRuns: RUNS },
    );
    expect(sink.batches).toEqual([]);
  });

  it(`answers 413 to ${Math.max(50, RUNS / 10)} bodies over the limit, signed or not, and never calls the sink`, async () => {
    const sink = new RecordingSink();
    const limit = 2048;
    const app = webhookApp({ sink, bodyLimitBytes: limit });
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: limit + 1, max: limit * 40 }),
        fc.boolean(),
        async (size, signed) => {
          const body = `{"padding":"${'x'.repeat(size)}"}`;
          const response = await post(app, name, body, signed ? genuineHeaders(name, body) : {});
          expect(response.status).toBe(413);
          await expectRefusalShape(response, ['payload_too_large']);
        },
      ),
      { numRuns: Math.max(50, RUNS / 10) },
    );
    expect(sink.batches).toEqual([]);
  });
});
