import { describe, expect, it } from 'vitest';
import { exactMcNemar } from '../../src/eval/mcnemar.ts';

describe('exactMcNemar', () => {
  it('matches the binomial tail computed by hand', () => {
    // n = 6, all discordant pairs one way: 2 · (1/2)^6.
    expect(exactMcNemar(6, 0).pValue).toBeCloseTo(0.03125, 12);
    // n = 10, min 1: 2 · (C(10,0) + C(10,1)) / 2^10 = 22/1024.
    expect(exactMcNemar(1, 9).pValue).toBeCloseTo(22 / 1024, 12);
    // n = 10, min 2: 2 · (1 + 10 + 45) / 1024.
    expect(exactMcNemar(8, 2).pValue).toBeCloseTo(0.109375, 12);
    // n = 5, min 0: 2/32: the smallest p five pairs can give.
    expect(exactMcNemar(0, 5).pValue).toBeCloseTo(0.0625, 12);
    // 10 vs 0: 2/1024.
    expect(exactMcNemar(10, 0).pValue).toBeCloseTo(0.001953125, 12);
  });

  it('is symmetric, capped at 1, and 1 without discordant pairs', () => {
    expect(exactMcNemar(3, 7).pValue).toBe(exactMcNemar(7, 3).pValue);
    expect(exactMcNemar(5, 5).pValue).toBe(1);
    expect(exactMcNemar(0, 0)).toEqual({ regressions: 0, improvements: 0, pValue: 1 });
  });

  it('stays finite for large counts (no factorial overflow)', () => {
    // 1,200 vs 1,000 discordant pairs: clearly significant, and a number, not NaN.
    const { pValue } = exactMcNemar(1_200, 1_000);
    expect(pValue).toBeGreaterThan(0);
    expect(pValue).toBeLessThan(0.001);
    expect(exactMcNemar(1_000, 1_000).pValue).toBe(1);
  });

  it('rejects counts that are not non-negative integers', () => {
    expect(() => exactMcNemar(-1, 2)).toThrow(RangeError);
    expect(() => exactMcNemar(1.5, 2)).toThrow(RangeError);
  });
});
