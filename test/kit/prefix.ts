import { randomBytes } from 'node:crypto';
import { basename } from 'node:path';

/** A BullMQ key prefix unique to one test file and run, so parallel files never share queues. */
export function testPrefix(file: string): string {
  return `nstest:${basename(file).replace(/\W+/g, '-')}:${randomBytes(4).toString('hex')}`;
}
