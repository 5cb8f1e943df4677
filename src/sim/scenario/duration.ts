import { z } from 'zod';
import { parseDuration } from '../../shared/clock.js';

const DURATION = /^\d+(?:\.\d+)?(?:ms|s|m|h|d)$/;

/**
 * A duration written with its unit (`500ms`, `60s`, `5m`, `2h`, `1d`), or `0`; parsed to
 * milliseconds. A bare number other than 0 is refused because `60` reads as seconds to some
 * people and milliseconds to others.
 */
export const durationSchema = z
  .union([z.literal(0), z.string().regex(DURATION, 'a duration with its unit, e.g. 500ms, 60s, 5m, 2h')])
  .transform((value) => (value === 0 ? 0 : parseDuration(value)))
  .describe('A duration with its unit, e.g. 500ms, 60s, 5m, 2h, 1d (or 0)');
