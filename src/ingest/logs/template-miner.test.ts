import { describe, expect, it } from 'vitest';
import { TemplateMiner } from './template-miner.js';
import { tokenize } from './tokenize.js';

describe('tokenize', () => {
  it('masks numbers, hex, UUIDs, IPs, timestamps and quoted strings, and keeps words', () => {
    expect(
      tokenize(
        'at 2026-01-01T10:00:00.123Z req 3f2a9c1e-1b2c-4d5e-8f90-a1b2c3d4e5f6 from 10.0.3.4:6379 took 12ms (0x1f) sha 6113728f27ae82c7b1a177c8d03f9e96e0adf246 said "no route" v1 http2 50%',
      ),
    ).toEqual([
      'at',
      '<TS>',
      'req',
      '<UUID>',
      'from',
      '<IP>',
      'took',
      '<NUM>',
      '(<HEX>)',
      'sha',
      '<HEX>',
      'said',
      '<STR>',
      'v1',
      'http2',
      '<NUM>',
    ]);
  });

  it('cuts lines to the token limit', () => {
    expect(tokenize('a b c d e f', 4)).toEqual(['a', 'b', 'c', 'd']);
  });
});

describe('the template miner', () => {
  it('groups lines of one statement into one template with counts and first/last seen', () => {
    const miner = new TemplateMiner();
    const first = miner.add('connection to 10.0.3.4:6379 refused after 3 retries', 1_000);
    const second = miner.add('connection to 10.0.3.9:6379 refused after 5 retries', 2_000);
    miner.add('connection to 10.0.3.7:6379 refused after 1 retries', 1_500);
    expect(first.created).toBe(true);
    expect(second.created).toBe(false);
    expect(second.template.id).toBe(first.template.id);
    expect(miner.size).toBe(1);
    expect(miner.templates()).toEqual([
      {
        id: first.template.id,
        template: 'connection to <IP> refused after <NUM> retries',
        count: 3,
        firstSeen: 1_000,
        lastSeen: 2_000,
        example: 'connection to 10.0.3.4:6379 refused after 3 retries',
      },
    ]);
  });

  it('widens differing words to <*> when enough of the line matches', () => {
    const miner = new TemplateMiner();
    miner.add('user alice logged in via sso', 1);
    const match = miner.add('user bob logged in via sso', 2);
    expect(match.changed).toBe(true);
    expect(match.template.template).toBe('user <*> logged in via sso');
    expect(miner.add('user carol logged in via sso', 3).changed).toBe(false);
  });

  it('keeps lines apart below the similarity threshold and by token count', () => {
    const miner = new TemplateMiner({ similarity: 0.7 });
    miner.add('cache miss for key cart', 1);
    miner.add('cache hit for user profile', 2);
    miner.add('cache miss for key', 3);
    expect(
      miner
        .templates()
        .map((template) => template.template)
        .sort(),
    ).toEqual(['cache hit for user profile', 'cache miss for key', 'cache miss for key cart']);
  });

  it('flags templates first seen after a time, such as a deploy', () => {
    const miner = new TemplateMiner();
    for (let second = 0; second < 10; second++)
      miner.add(`GET /api/cart 200 ${10 + second}ms`, second * 1_000);
    const deployAt = 5_500;
    miner.add('GET /api/cart 200 99ms', 6_000);
    miner.add('NullPointerException in PriceCalculator.apply line 42', 7_000);
    miner.add('NullPointerException in PriceCalculator.apply line 43', 8_000);
    miner.add('retrying payment 3f2a9c1e-1b2c-4d5e-8f90-a1b2c3d4e5f6', 9_000);
    const fresh = miner.newSince(deployAt);
    expect(fresh.map((template) => [template.template, template.count, template.firstSeen])).toEqual([
      ['NullPointerException in PriceCalculator.apply line <NUM>', 2, 7_000],
      ['retrying payment <UUID>', 1, 9_000],
    ]);
    expect(miner.newSince(10_000)).toEqual([]);
  });

  it('redacts secrets before a line becomes a template or an example', () => {
    const miner = new TemplateMiner();
    const match = miner.add('login failed password=canaryLogPw token xoxb-123456789012-CanaryBotTok3n', 1);
    expect(JSON.stringify(match.template)).not.toContain('canaryLogPw');
    expect(JSON.stringify(miner.templates())).not.toContain('CanaryBotTok3n');
  });

  it('drops the least recently seen template beyond its limit', () => {
    const miner = new TemplateMiner({ maxTemplates: 2 });
    const old = miner.add('alpha happened', 1).template;
    miner.add('beta happened here', 2);
    miner.add('alpha happened', 10);
    miner.add('gamma happened here and there', 11);
    expect(miner.size).toBe(2);
    expect(miner.get(old.id)?.count).toBe(2);
    expect(
      miner
        .templates()
        .map((template) => template.template)
        .sort(),
    ).toEqual(['alpha happened', 'gamma happened here and there']);
    expect(miner.add('beta happened here', 12).created).toBe(true);
  });

  it('routes many distinct first words through the <*> child beyond maxChildren and stays correct', () => {
    const miner = new TemplateMiner({ maxChildren: 3 });
    for (let index = 0; index < 20; index++)
      miner.add(`svc${'abcdefghijklmnopqrst'[index]}x started ok`, index);
    expect(miner.templates().reduce((total, template) => total + template.count, 0)).toBe(20);
  });

  it('gives the same ids for the same input in the same order', () => {
    const lines = ['a b c 1', 'a b c 2', 'x y 3', 'x z 4'];
    const one = new TemplateMiner();
    const two = new TemplateMiner();
    lines.forEach((line, index) => {
      one.add(line, index);
      two.add(line, index);
    });
    expect(one.templates()).toEqual(two.templates());
  });

  it('collapses a realistic burst into few templates', () => {
    const miner = new TemplateMiner();
    const started = performance.now();
    for (let index = 0; index < 5_000; index++) {
      const pod = `checkout-7f9c8d6b5-${(index % 7).toString(36)}x2z`;
      miner.add(`${pod} GET /api/cart/${index} 200 ${index % 300}ms`, index);
      miner.add(`${pod} upstream redis-session timeout after ${index % 50}ms`, index);
      if (index % 100 === 0) miner.add(`${pod} OOMKilled container checkout restarted ${index} times`, index);
    }
    const elapsed = performance.now() - started;
    expect(miner.size).toBeLessThanOrEqual(6);
    expect(miner.templates()[0]?.count).toBeGreaterThanOrEqual(5_000);
    expect(elapsed).toBeLessThan(5_000);
  });
});
