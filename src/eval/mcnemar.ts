/** The exact McNemar test on paired outcomes. */
export interface McNemarResult {
  /** Pairs correct in the baseline and incorrect in the candidate (regressions). */
  regressions: number;
  /** Pairs incorrect in the baseline and correct in the candidate (improvements). */
  improvements: number;
  /** Two-sided p-value. */
  pValue: number;
}

/** ln(n!) by summing logs: exact enough for the few thousand cases a dataset holds, and never overflows. */
function logFactorials(n: number): number[] {
  const table = [0];
  for (let k = 1; k <= n; k++) table.push((table[k - 1] as number) + Math.log(k));
  return table;
}

/**
 * Exact (binomial) McNemar test: only the discordant pairs count. Under the null hypothesis of equal accuracy,
 * each of the n = b + c discordant pairs is a regression with probability 1/2, so
 * p = min(1, 2 · P(X ≤ min(b, c))) with X ~ Binomial(n, 1/2). Preferred over the χ² form because evaluation
 * sets are small and discordant pairs few.
 */
export function exactMcNemar(regressions: number, improvements: number): McNemarResult {
  for (const count of [regressions, improvements]) {
    if (!Number.isInteger(count) || count < 0) throw new RangeError('McNemar counts must be non-negative integers');
  }
  const n = regressions + improvements;
  if (n === 0) return { regressions, improvements, pValue: 1 };
  const logFactorial = logFactorials(n);
  const smaller = Math.min(regressions, improvements);
  let tail = 0;
  for (let k = 0; k <= smaller; k++) {
    tail += Math.exp(
      (logFactorial[n] as number) - (logFactorial[k] as number) - (logFactorial[n - k] as number) - n * Math.LN2,
    );
  }
  return { regressions, improvements, pValue: Math.min(1, 2 * tail) };
}
