/** z for a two-sided 95% interval. */
export const Z95 = 1.959963984540054;

/** The Wilson score interval of a binomial proportion `k / n` (n > 0). */
export function wilson(k: number, n: number, z = Z95): [number, number] {
  const p = k / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const center = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  return [Math.max(0, center - half), Math.min(1, center + half)];
}

/**
 * Newcombe's hybrid score interval (his method 10) of the difference of two proportions,
 * `k2/n2 - k1/n1`, from each one's Wilson interval: sound for small samples and proportions near
 * 0 or 1, where the normal approximation is not.
 */
export function proportionDifference(k1: number, n1: number, k2: number, n2: number, z = Z95): [number, number] {
  const p1 = k1 / n1;
  const p2 = k2 / n2;
  const [l1, u1] = wilson(k1, n1, z);
  const [l2, u2] = wilson(k2, n2, z);
  const d = p2 - p1;
  return [d - Math.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2), d + Math.sqrt((u2 - p2) ** 2 + (p1 - l1) ** 2)];
}

/**
 * The normal-approximation interval of the difference of two means (`mean2 - mean1`), each from
 * its count, sum and sum of squares (Welch's standard error). Undefined with fewer than 2 each.
 */
export function meanDifference(
  a: { n: number; sum: number; sumSq: number },
  b: { n: number; sum: number; sumSq: number },
  z = Z95,
): [number, number] | undefined {
  if (a.n < 2 || b.n < 2) return undefined;
  const variance = (x: { n: number; sum: number; sumSq: number }) =>
    Math.max(0, (x.sumSq - (x.sum * x.sum) / x.n) / (x.n - 1));
  const d = b.sum / b.n - a.sum / a.n;
  const se = Math.sqrt(variance(a) / a.n + variance(b) / b.n);
  return [d - z * se, d + z * se];
}
