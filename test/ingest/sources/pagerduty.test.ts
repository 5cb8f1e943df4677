import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { verifyPagerDutySignature } from '../../../src/ingest/sources/pagerduty/authenticate.js';
import { parsePagerDuty } from '../../../src/ingest/sources/pagerduty/parse.js';
import type { Signal } from '../../../src/ingest/signal.js';
import { contextFor, fixture } from '../fixtures.js';

function signalsOf(name: string, headers: Record<string, string> = {}): Signal[] {
  const { body, text } = fixture('pagerduty', name);
  const result = parsePagerDuty(body, headers, contextFor(text));
  if ('error' in result) throw new Error(result.error.message);
  return result.ok;
}

describe('the PagerDuty parser', () => {
  it('turns incident.triggered into a firing alert and incident.resolved into a resolved one', () => {
    const [triggered] = signalsOf('incident-triggered', { 'x-webhook-id': 'whk-1' });
    expect(triggered).toMatchObject({
      source: 'pagerduty',
      kind: 'alert',
      status: 'firing',
      severity: 'critical',
      fingerprint: 'PGR0VU2',
      observedAt: Date.parse('2020-04-09T15:16:27.000Z'),
      summary: 'A little bump in the road',
      entities: [{ kind: 'Alert', id: 'alert:pagerduty/PGR0VU2', name: 'A little bump in the road' }],
      raw: { source: 'webhook/pagerduty', deliveryId: 'whk-1' },
    });
    expect(triggered?.attributes).toMatchObject({
      incidentNumber: 2,
      incidentKey: 'd3640fbd41094207a1c11e58e46b1662',
      service: 'API Service',
      teams: ['Engineering'],
      urgency: 'high',
    });
    const [resolved] = signalsOf('incident-resolved');
    expect(resolved).toMatchObject({
      kind: 'alert',
      status: 'resolved',
      fingerprint: 'PGR0VU2',
      severity: 'critical',
    });
    expect(resolved?.id).not.toBe(triggered?.id);
  });

  it('turns an acknowledgement into an event and a note into a message, both about the incident', () => {
    const [acknowledged] = signalsOf('incident-acknowledged');
    expect(acknowledged).toMatchObject({
      kind: 'event',
      severity: 'info',
      summary: 'acknowledged by Tenex Engineer: A little bump in the road',
      fingerprint: 'PGR0VU2/01BRB6ZP4M6T8ZG4X6BP63ZB9B',
    });
    expect(acknowledged?.status).toBeUndefined();
    const [note] = signalsOf('incident-annotated');
    expect(note).toMatchObject({
      kind: 'message',
      summary: 'I sure am glad we are using PagerDuty!',
      fingerprint: 'PGR0VU2/note/P2LA89X',
      entities: [{ kind: 'Alert', id: 'alert:pagerduty/PGR0VU2' }],
    });
    const [priority] = signalsOf('incident-priority-updated');
    expect(priority).toMatchObject({
      kind: 'event',
      summary: 'priority updated by Tenex Engineer: A little bump in the road',
    });
  });

  it('ingests nothing from non-incident events', () => {
    expect(signalsOf('service-updated')).toEqual([]);
    expect(
      parsePagerDuty(
        { event: { id: 'p1', event_type: 'pagey.ping', occurred_at: '2026-01-01T00:00:00Z', data: {} } },
        {},
        contextFor('x'),
      ),
    ).toEqual({ ok: [] });
  });

  it('names the missing or wrong fields', () => {
    const missingIncident = parsePagerDuty(
      {
        event: {
          id: 'e1',
          event_type: 'incident.triggered',
          occurred_at: '2026-01-01T00:00:00Z',
          data: { type: 'incident' },
        },
      },
      {},
      contextFor('x'),
    );
    expect(missingIncident).toHaveProperty('error.issues.0.path', 'event.data.id');
    const badTime = parsePagerDuty(
      { event: { id: 'e1', event_type: 'incident.triggered', occurred_at: 'soon', data: { id: 'P1' } } },
      {},
      contextFor('x'),
    );
    expect(badTime).toHaveProperty('error.issues.0.path', 'event.occurred_at');
    const emptyNote = parsePagerDuty(
      {
        event: {
          id: 'e2',
          event_type: 'incident.annotated',
          occurred_at: '2026-01-01T00:00:00Z',
          data: { type: 'incident_note', incident: { id: 'P1' }, content: ' ' },
        },
      },
      {},
      contextFor('x'),
    );
    expect(emptyNote).toHaveProperty('error.issues.0.path', 'event.data.content');
    expect(parsePagerDuty({ messages: [] }, {}, contextFor('x'))).toHaveProperty(
      'error.issues.0.path',
      'event',
    );
  });
});

describe('PagerDuty signature verification', () => {
  const secret = 'pd-secret-abcdef';
  const body = Buffer.from(fixture('pagerduty', 'incident-triggered').text);
  const sign = (key: string) => `v1=${createHmac('sha256', key).update(body).digest('hex')}`;

  it('accepts a v1 signature of the raw body, alone or among others', () => {
    expect(verifyPagerDutySignature({ 'x-pagerduty-signature': sign(secret) }, body, secret)).toEqual({
      ok: true,
    });
    expect(
      verifyPagerDutySignature(
        { 'x-pagerduty-signature': `${sign('old-secret')},${sign(secret)}` },
        body,
        secret,
      ),
    ).toEqual({ ok: true });
    expect(
      verifyPagerDutySignature(
        { 'x-pagerduty-signature': `v2=abc, ${sign(secret).toUpperCase().replace('V1=', 'v1=')}` },
        body,
        secret,
      ),
    ).toEqual({ ok: true });
  });

  it('refuses missing, forged and other-version signatures, and a body that changed', () => {
    expect(verifyPagerDutySignature({}, body, secret).ok).toBe(false);
    expect(verifyPagerDutySignature({ 'x-pagerduty-signature': sign('other') }, body, secret).ok).toBe(false);
    expect(
      verifyPagerDutySignature({ 'x-pagerduty-signature': sign(secret).replace('v1=', 'v2=') }, body, secret)
        .ok,
    ).toBe(false);
    expect(verifyPagerDutySignature({ 'x-pagerduty-signature': 'v1=' }, body, secret).ok).toBe(false);
    const tampered = Buffer.concat([body, Buffer.from(' ')]);
    expect(verifyPagerDutySignature({ 'x-pagerduty-signature': sign(secret) }, tampered, secret).ok).toBe(
      false,
    );
  });
});
