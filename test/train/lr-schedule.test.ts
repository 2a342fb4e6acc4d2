import { describe, expect, it } from 'vitest';
import { learningRateAt } from '../../src/train/lr-schedule.js';

describe('learning-rate schedules', () => {
  it('steps down by a factor every N epochs', () => {
    const s = { stepDecay: { every: 2, factor: 0.5 } };
    expect([1, 2, 3, 4, 5].map((e) => learningRateAt(s, 0.1, e, 5))).toEqual([0.1, 0.1, 0.05, 0.05, 0.025]);
  });

  it('decays exponentially from the optimizer rate', () => {
    const s = { exponentialDecay: { rate: 0.9 } };
    expect(learningRateAt(s, 0.01, 1, 10)).toBe(0.01);
    expect(learningRateAt(s, 0.01, 3, 10)).toBeCloseTo(0.0081, 12);
  });

  it('follows half a cosine from lr0 down towards the minimum', () => {
    const s = { cosineDecay: { minLearningRate: 0.001 } };
    expect(learningRateAt(s, 0.011, 1, 5)).toBe(0.011);
    expect(learningRateAt(s, 0.011, 3, 5)).toBeCloseTo(0.011 - 0.01 * (1 - Math.cos(Math.PI * 2 / 5)) / 2, 12);
    expect(learningRateAt(s, 0.011, 5, 5)).toBeGreaterThan(0.001);
  });

});
