/** The median of the values (NaN for none). Does not modify its input. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((left, right) => left - right);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** The median absolute deviation from `center`. */
export function medianAbsoluteDeviation(values: readonly number[], center: number): number {
  return median(values.map((value) => Math.abs(value - center)));
}

/** The standard deviation of the values around `center` (population form; NaN for none). */
export function standardDeviation(values: readonly number[], center: number): number {
  if (values.length === 0) return Number.NaN;
  let sum = 0;
  for (const value of values) sum += (value - center) ** 2;
  return Math.sqrt(sum / values.length);
}

/** MAD × 1.4826 estimates the standard deviation of normally distributed data (1 / 0.6745). */
export const madToSigma = 1.4826;
