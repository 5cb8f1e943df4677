import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';

function capture(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

describe('createLogger', () => {
  it('redacts secret-bearing keys and masks configured secret values anywhere in a line', () => {
    const out = capture();
    const logger = createLogger({
      level: 'info',
      destination: out.stream,
      secrets: () => ['hunter2-canary'],
    });
    logger.info(
      { token: 'abc-token-value', headers: { authorization: 'Bearer xyz' } },
      'connecting with hunter2-canary',
    );
    logger.info({ nested: { password: 'pw-123456' }, url: 'redis://:hunter2-canary@host' }, 'url');
    const text = out.text();
    expect(text).not.toContain('abc-token-value');
    expect(text).not.toContain('Bearer xyz');
    expect(text).not.toContain('pw-123456');
    expect(text).not.toContain('hunter2-canary');
    expect(text).toContain('connecting with <secret>');
  });
});
