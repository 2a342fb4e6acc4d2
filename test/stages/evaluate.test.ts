import { describe, expect, it } from 'vitest';
import { confusionMatrix, perClassScores, regressionScores } from '../../src/stages/evaluate.js';
import { EarlyStopping } from '../../src/train/early-stopping.js';

describe('confusionMatrix and perClassScores', () => {
  const truth = [0, 0, 0, 1, 1, 2];
  const predicted = [0, 0, 1, 1, 2, 2];
  const m = confusionMatrix(truth, predicted, 3);

  it('counts true classes in rows and predictions in columns', () => {
    expect(m).toEqual([[2, 1, 0], [0, 1, 1], [0, 0, 1]]);
  });

  it('computes precision, recall and F1 per class', () => {
    const [a, b, c] = perClassScores(m, ['a', 'b', 'c']);
    expect(a).toEqual({ class: 'a', precision: 1, recall: 2 / 3, f1: 0.8, support: 3 });
    expect(b!.precision).toBe(0.5);
    expect(b!.recall).toBe(0.5);
    expect(c).toMatchObject({ precision: 0.5, recall: 1, support: 1 });
    expect(c!.f1).toBeCloseTo(2 / 3, 12);
  });

  it('gives 0 rather than NaN for a class never predicted', () => {
    const [, never] = perClassScores(confusionMatrix([0, 1], [0, 0], 2), ['x', 'y']);
    expect(never).toEqual({ class: 'y', precision: 0, recall: 0, f1: 0, support: 1 });
  });
});

describe('EarlyStopping', () => {
  const logs = (epoch: number, val_loss: number, val_accuracy = 0) => ({ epoch, loss: 1, val_loss, val_accuracy, seconds: 0 });

  it('stops after patience epochs without an improvement larger than minDelta', () => {
    const es = new EarlyStopping({ monitor: 'val_loss', patience: 2, minDelta: 0.01, mode: 'auto', restoreBestWeights: false });
    expect(es.update(logs(1, 1.0))).toEqual({ improved: true, stop: false });
    expect(es.update(logs(2, 0.995))).toEqual({ improved: false, stop: false });
    expect(es.update(logs(3, 0.9))).toEqual({ improved: true, stop: false });
    expect(es.update(logs(4, 0.95))).toEqual({ improved: false, stop: false });
    expect(es.update(logs(5, 0.95))).toEqual({ improved: false, stop: true });
    expect(es.bestEpoch).toBe(3);
  });

  it('maximizes accuracy in auto mode, and patience 0 stops at the first miss', () => {
    const es = new EarlyStopping({ monitor: 'val_accuracy', patience: 0, minDelta: 0, mode: 'auto', restoreBestWeights: false });
    expect(es.update(logs(1, 9, 0.5)).improved).toBe(true);
    expect(es.update(logs(2, 9, 0.6)).improved).toBe(true);
    expect(es.update(logs(3, 9, 0.6))).toEqual({ improved: false, stop: true });
  });
});

describe('regressionScores', () => {
  it('gives R^2 1 for exact predictions, 0 for predicting the mean, and the usual MSE and MAE', () => {
    const truth = Float32Array.from([1, 2, 3, 6]);
    expect(regressionScores(truth, truth)).toEqual({ mse: 0, mae: 0, r2: 1 });
    expect(regressionScores(truth, Float32Array.from([3, 3, 3, 3])).r2).toBe(0);
    const s = regressionScores(truth, Float32Array.from([2, 2, 3, 4]));
    expect(s.mse).toBe((1 + 0 + 0 + 4) / 4);
    expect(s.mae).toBe((1 + 0 + 0 + 2) / 4);
    expect(s.r2).toBeCloseTo(1 - 5 / 14, 12);
  });
});
