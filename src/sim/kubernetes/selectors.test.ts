import { describe, expect, it } from 'vitest';
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from './selectors.js';

describe('selectors', () => {
  it('matches equality and set-based label selectors', () => {
    const labels = { app: 'web', tier: 'front', env: 'prod' };
    expect(matchesLabels(labels, parseLabelSelector('app=web,tier==front'))).toBe(true);
    expect(matchesLabels(labels, parseLabelSelector('app!=web'))).toBe(false);
    expect(matchesLabels(labels, parseLabelSelector('env in (prod, staging),tier notin (back)'))).toBe(true);
    expect(matchesLabels(labels, parseLabelSelector('env in (dev)'))).toBe(false);
    expect(matchesLabels(labels, parseLabelSelector('app,!legacy'))).toBe(true);
    expect(matchesLabels(labels, parseLabelSelector('legacy'))).toBe(false);
    expect(() => parseLabelSelector('app===web')).toThrow(/unable to parse requirement/);
  });

  it('matches field selectors on dotted paths', () => {
    const event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: 'e1', namespace: 'shop' },
      involvedObject: { name: 'web-1', kind: 'Pod' },
      type: 'Warning',
    };
    expect(
      matchesFields(event, parseFieldSelector('involvedObject.name=web-1,involvedObject.kind=Pod')),
    ).toBe(true);
    expect(matchesFields(event, parseFieldSelector('type!=Warning'))).toBe(false);
    expect(matchesFields(event, parseFieldSelector('metadata.name==e1'))).toBe(true);
    expect(matchesFields(event, parseFieldSelector('spec.nodeName='))).toBe(true);
  });
});
