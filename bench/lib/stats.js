// Small, dependency-free statistics helpers. Percentiles use the nearest-rank method on the
// sorted sample (p99 of 100 values is the 99th smallest), so every reported figure is a value
// that was actually observed.

/** @param {ArrayLike<number>} values @returns {number[]} a sorted copy */
export function sorted(values) {
  return Float64Array.from(values).sort();
}

/** Nearest-rank percentile of an already sorted sample; NaN when empty. */
export function percentileSorted(s, p) {
  if (s.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * s.length);
  return s[Math.min(s.length - 1, Math.max(0, rank - 1))];
}

/** @param {ArrayLike<number>} values @param {number} p 0..100 */
export function percentile(values, p) {
  return percentileSorted(sorted(values), p);
}

export function median(values) {
  return percentile(values, 50);
}

export function mean(values) {
  if (values.length === 0) return NaN;
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  return sum / values.length;
}

/**
 * The usual summary of a latency sample, in the sample's unit.
 * @param {ArrayLike<number>} values
 */
export function summarize(values) {
  const s = sorted(values);
  return {
    n: s.length,
    min: s.length ? s[0] : NaN,
    p50: percentileSorted(s, 50),
    p90: percentileSorted(s, 90),
    p99: percentileSorted(s, 99),
    max: s.length ? s[s.length - 1] : NaN,
    mean: mean(s),
  };
}

/** min / median / max of a few repeats (e.g. req/s of 3 runs); an even count takes the mean of the middle two. */
export function spread(values) {
  const s = sorted(values);
  const mid = s.length >> 1;
  const med = s.length === 0 ? NaN : s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { n: s.length, min: s[0] ?? NaN, median: med, max: s[s.length - 1] ?? NaN };
}

/** Formats a number with a sensible number of decimals for tables. */
export function fmt(value, digits = 2) {
  if (value === null || value === undefined || Number.isNaN(value)) return 'n/a';
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 1000) return Math.round(value).toLocaleString('en-US');
  if (abs >= 100) return value.toFixed(Math.max(0, digits - 2));
  if (abs >= 10) return value.toFixed(Math.max(0, digits - 1));
  return value.toFixed(digits);
}

/** Ratio formatted as e.g. "0.83×". */
export function fmtRatio(value) {
  return Number.isFinite(value) ? `${value.toFixed(2)}×` : 'n/a';
}
