import { describe, expect, it } from 'vitest';
import { parseEntityBatch, parseEventBatch, parseRelationshipBatch } from './parse-batch.js';
import { quickEntity, quickEvent, quickRelationship } from './quick-inputs.js';
import {
  entityInputSchema,
  eventInputSchema,
  MAX_ID_LENGTH,
  MAX_NAME_LENGTH,
  MAX_PROPERTIES,
  MAX_PROPERTY_BYTES,
  MAX_SOURCE_LENGTH,
  MAX_SUMMARY_LENGTH,
  relationshipInputSchema,
} from './schema.js';

/** A small deterministic generator, so a failure names a case that can be run again. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1_664_525 + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

const entity = {
  id: 'pod:prod/checkout/checkout-1',
  kind: 'Pod',
  name: 'checkout-1',
  properties: { phase: 'Running', restarts: 3, ready: true, labels: ['app=checkout', 'tier=web'] },
  source: 'kubernetes',
  confidence: 1,
  observedAt: 1_733_500_000_000,
};
const relationship = {
  kind: 'RUNS_ON',
  from: 'pod:prod/checkout/checkout-1',
  to: 'node:prod/node-a',
  properties: { since: 1_733_400_000_000 },
  source: 'kubernetes',
  confidence: 0.9,
  observedAt: 1_733_500_000_000,
};
const event = {
  id: 'signal:abc',
  kind: 'alert-fired',
  entityId: 'alert:alertmanager/KubePodCrashLooping',
  at: 1_733_500_000_000,
  summary: 'checkout-1 is crash looping',
  properties: { severity: 'critical', signalId: 'sig_1', counts: [1, 2, 3] },
  source: 'alertmanager',
  confidence: 1,
};

/** Values a field may be broken into: wrong types, edge lengths, edge numbers. */
const ODD_VALUES: unknown[] = [
  undefined,
  null,
  '',
  'x',
  'a\u0001b',
  'x'.repeat(MAX_SOURCE_LENGTH + 1),
  'x'.repeat(MAX_NAME_LENGTH + 1),
  'x'.repeat(MAX_SUMMARY_LENGTH + 1),
  'x'.repeat(MAX_ID_LENGTH + 1),
  0,
  -1,
  0.5,
  1.5,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  2 ** 53,
  1_733_500_000_000.5,
  true,
  [],
  ['a'],
  {},
  new Date(0),
  'Pod',
  'RUNS_ON',
  'note',
  'NotAKind',
];

/** Property maps that break one rule each, and some that are fine. */
function oddProperties(): unknown[] {
  const many = Object.fromEntries(
    Array.from({ length: MAX_PROPERTIES + 1 }, (_, index) => [`p${index}`, index]),
  );
  const big = Object.fromEntries(Array.from({ length: 8 }, (_, index) => [`p${index}`, 'x'.repeat(9_000)]));
  return [
    undefined,
    null,
    [],
    {},
    { ok: 'yes' },
    { ok: null },
    { '1bad': 1 },
    { id: 'reserved' },
    { summary: 'reserved' },
    { nested: { a: 1 } },
    { mixed: [1, 'a'] },
    { holes: [1, Number.NaN] },
    { inf: Number.POSITIVE_INFINITY },
    { big: 'x'.repeat(MAX_PROPERTY_BYTES + 1) },
    { wide: 'é'.repeat(6_000) },
    { list: Array.from({ length: 3_000 }, () => 'abcdef') },
    many,
    big,
    Object.assign(Object.create(null) as object, { fine: 1 }),
    new Map([['a', 1]]),
  ];
}

function mutate(base: Record<string, unknown>, next: () => number): unknown {
  const item: Record<string, unknown> = { ...base };
  const fields = Object.keys(base);
  const changes = 1 + Math.floor(next() * 3);
  for (let change = 0; change < changes; change++) {
    const roll = next();
    const field = fields[Math.floor(next() * fields.length)] as string;
    if (roll < 0.15) delete item[field];
    else if (roll < 0.2) item.extra = 'unexpected';
    else if (roll < 0.45) item.properties = oddProperties()[Math.floor(next() * oddProperties().length)];
    else item[field] = ODD_VALUES[Math.floor(next() * ODD_VALUES.length)];
  }
  return item;
}

const shapes = [
  { name: 'entity', base: entity, quick: quickEntity, schema: entityInputSchema },
  { name: 'relationship', base: relationship, quick: quickRelationship, schema: relationshipInputSchema },
  { name: 'event', base: event, quick: quickEvent, schema: eventInputSchema },
] as const;

describe('the quick input checks', () => {
  it.each(shapes)(
    'accept a valid $name as its schema returns it, without sharing its properties',
    (shape) => {
      const quick = shape.quick(shape.base);
      expect(quick).toEqual(shape.schema.parse(shape.base));
      expect((quick as { properties?: unknown }).properties).not.toBe(shape.base.properties);
      const bare = Object.fromEntries(
        Object.entries(shape.base).filter(
          ([key]) => !['properties', 'confidence', 'name', 'summary', 'observedAt'].includes(key),
        ),
      );
      expect(shape.quick(bare)).toEqual(shape.schema.parse(bare));
    },
  );

  it.each(shapes)(
    'never accept a broken $name the schema refuses, and agree on what they accept',
    (shape) => {
      const next = random(shape.name.length * 7_919);
      let accepted = 0;
      let refused = 0;
      for (let round = 0; round < 4_000; round++) {
        const item = mutate(shape.base, next);
        const quick = shape.quick(item);
        const parsed = shape.schema.safeParse(item);
        if (quick === undefined) {
          refused += 1;
          continue;
        }
        accepted += 1;
        expect({ round, success: parsed.success }).toEqual({ round, success: true });
        expect(quick).toEqual(parsed.data);
      }
      // Both sides are exercised: broken items are refused, harmless changes still pass quickly.
      expect(accepted).toBeGreaterThan(100);
      expect(refused).toBeGreaterThan(1_000);
    },
  );

  it('leave the refusal and its message to the schema', () => {
    expect(() => parseEntityBatch([{ ...entity, properties: { id: 'x' } }], 0)).toThrow(
      /reserved field name/,
    );
    expect(() => parseRelationshipBatch([{ ...relationship, kind: 'LIKES' }], 0)).toThrow(/must be one of/);
    expect(() => parseEventBatch([{ ...event, at: 1.5 }])).toThrow(/whole milliseconds/);
  });

  it('fill in the same defaults either way, and never change the caller’s properties', () => {
    const signature = {
      ...entity,
      id: 'incident:inc_1',
      kind: 'Incident',
      properties: { signature: ['B', 'a', 'a'] },
    };
    const [write] = parseEntityBatch([signature], 42);
    expect(write?.properties.signature).toEqual(['a', 'b']);
    expect(signature.properties.signature).toEqual(['B', 'a', 'a']);
    const [bare] = parseEntityBatch([{ id: 'svc:a', kind: 'Service', source: 'test' }], 42);
    expect(bare).toEqual({
      id: 'svc:a',
      kind: 'Service',
      properties: {},
      source: 'test',
      confidence: 1,
      observedAt: 42,
    });
    const [fired] = parseEventBatch([{ ...event, properties: { gone: null, kept: 1 } }]);
    expect(fired?.properties).toEqual({ kept: 1 });
  });
});

describe('property size limits', () => {
  it('refuse a map over the limit as JSON bytes, though its text is short in characters', () => {
    // Ten values of 6,000 two-byte characters: each within the per-value limit, 120 kB together.
    const wide = Object.fromEntries(
      Array.from({ length: 10 }, (_, index) => [`p${index}`, 'é'.repeat(6_000)]),
    );
    expect(() => parseEntityBatch([{ ...entity, properties: wide }], 0)).toThrow(
      /all properties together are 120\d{3} bytes/,
    );
    const narrow = Object.fromEntries(
      Array.from({ length: 5 }, (_, index) => [`p${index}`, 'é'.repeat(6_000)]),
    );
    expect(parseEntityBatch([{ ...entity, properties: narrow }], 0)).toHaveLength(1);
  });

  it('measure a list exactly at the limit', () => {
    // ["a","a",…,"aaaa"] is 4n + 4 bytes: 16,384 with n = 4,095.
    const fits = [...Array.from({ length: 4_094 }, () => 'a'), 'aaaa'];
    expect(JSON.stringify(fits)).toHaveLength(MAX_PROPERTY_BYTES);
    expect(parseEntityBatch([{ ...entity, properties: { list: fits } }], 0)).toHaveLength(1);
    expect(() => parseEntityBatch([{ ...entity, properties: { list: [...fits, 'a'] } }], 0)).toThrow(
      `is ${MAX_PROPERTY_BYTES + 4} bytes; the limit is ${MAX_PROPERTY_BYTES}`,
    );
  });
});
