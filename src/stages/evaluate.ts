import { RUN_FILES } from '../runs/run-dir.js';
import type { RunnerStage, StageContext } from './stage.js';
import { evaluateSplit } from '../train/batches.js';
import type { FitOutput } from './types.js';
import type { Prepared, Split } from '../data/prepared.js';

/** Per-class scores as in scikit-learn's classification report. */
export interface ClassScores { class: string; precision: number; recall: number; f1: number; support: number }

/** Confusion matrix (rows: true class, columns: predicted) from true and predicted labels. */
export function confusionMatrix(truth: ArrayLike<number>, predicted: ArrayLike<number>, numClasses: number): number[][] {
  const m = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < truth.length; i++) m[truth[i]!]![predicted[i]!]!++;
  return m;
}

/** Precision, recall, F1 and support per class; 0 where a ratio has no denominator. */
export function perClassScores(matrix: number[][], classNames: readonly string[]): ClassScores[] {
  return matrix.map((row, c) => {
    const tp = row[c]!;
    const support = row.reduce((a, b) => a + b, 0);
    const predicted = matrix.reduce((a, r) => a + r[c]!, 0);
    const precision = predicted ? tp / predicted : 0;
    const recall = support ? tp / support : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    return { class: classNames[c] ?? String(c), precision, recall, f1, support };
  });
}

function trueLabels(split: Split, oneHot: boolean, numClasses: number): Int32Array {
  if (!oneHot) return Int32Array.from(split.y);
  const out = new Int32Array(split.count);
  for (let i = 0; i < split.count; i++) {
    let best = 0;
    for (let c = 1; c < numClasses; c++) if (split.y[i * numClasses + c]! > split.y[i * numClasses + best]!) best = c;
    out[i] = best;
  }
  return out;
}

/** MSE, MAE and R^2 (1 - residual / total sum of squares; 0 means no better than predicting the mean). */
export function regressionScores(truth: Float32Array, predicted: Float32Array): { mse: number; mae: number; r2: number } {
  const n = truth.length;
  const mean = truth.reduce((a, b) => a + b, 0) / n;
  let se = 0;
  let ae = 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const d = truth[i]! - predicted[i]!;
    se += d * d;
    ae += Math.abs(d);
    total += (truth[i]! - mean) ** 2;
  }
  return { mse: se / n, mae: ae / n, r2: total > 0 ? 1 - se / total : 0 };
}

/** Accuracy within each group of the test split (a corpus's groups: hard-ham-1, say), groups sorted by name. */
export function groupAccuracy(truth: ArrayLike<number>, predicted: ArrayLike<number>, groups: readonly string[]): Record<string, { examples: number; accuracy: number }> {
  const tally = new Map<string, { examples: number; right: number }>();
  groups.forEach((g, i) => {
    const t = tally.get(g) ?? { examples: 0, right: 0 };
    t.examples++;
    if (truth[i] === predicted[i]) t.right++;
    tally.set(g, t);
  });
  return Object.fromEntries([...tally].sort(([a], [b]) => (a < b ? -1 : 1)).map(([g, t]) => [g, { examples: t.examples, accuracy: t.right / t.examples }]));
}

/** Scores the trained model on the test split and writes summary.json. */
export const evaluate: RunnerStage<'evaluate', 'fit' | 'normalize'> = {
  name: 'evaluate',
  needs: ['fit', 'normalize'],
  async run({ fit: { model, history, stoppedEarly, bestEpoch }, normalize: data }, ctx) {
    const { metrics, batchSize } = ctx.spec.evaluate;
    const { test, inputShape, targetShape, numClasses, classNames } = data;
    if (test.count === 0) throw new Error('the test split is empty');
    const wantsMatrix = data.task === 'classification' && (metrics.includes('confusionMatrix') || metrics.includes('perClass'));
    const predicted = wantsMatrix || (data.task === 'classification' && test.groups) ? new Int32Array(test.count) : undefined;
    const values = data.task === 'regression' ? new Float32Array(test.count) : undefined;
    const [loss, ...compiled] = await evaluateSplit(model, test, inputShape, targetShape, batchSize, { classes: predicted, values });
    // Ctrl-C during scoring: no summary.json, and the run is interrupted (resume scores it).
    if (ctx.signal.aborted) throw new Error('interrupted while scoring the test split');
    const summary: Record<string, unknown> = { split: 'test', examples: test.count, epochsRun: history.length, stoppedEarly };
    if (bestEpoch !== undefined) summary['bestEpoch'] = bestEpoch;
    if (metrics.includes('loss')) summary['loss'] = loss;
    // accuracy when evaluate.metrics asks for it; the other compiled metrics always, by their names.
    ctx.spec.compile.metrics.forEach((name, i) => {
      if (name !== 'accuracy' || metrics.includes('accuracy')) summary[name] = compiled[i];
    });
    if (values) Object.assign(summary, regressionScores(test.y, values));
    if (predicted && test.groups) summary['groups'] = groupAccuracy(trueLabels(test, data.oneHot, numClasses), predicted, test.groups);
    if (predicted && wantsMatrix) {
      const matrix = confusionMatrix(trueLabels(test, data.oneHot, numClasses), predicted, numClasses);
      if (metrics.includes('confusionMatrix')) summary['confusionMatrix'] = { labels: classNames, rows: 'true class', columns: 'predicted class', matrix };
      if (metrics.includes('perClass')) {
        const scores = perClassScores(matrix, classNames);
        const total = scores.reduce((a, s) => a + s.support, 0);
        const avg = (k: 'precision' | 'recall' | 'f1', weighted: boolean) =>
          scores.reduce((a, s) => a + s[k] * (weighted ? s.support / total : 1 / scores.length), 0);
        summary['perClass'] = scores;
        summary['macroAvg'] = { precision: avg('precision', false), recall: avg('recall', false), f1: avg('f1', false) };
        summary['weightedAvg'] = { precision: avg('precision', true), recall: avg('recall', true), f1: avg('f1', true) };
      }
    }
    ctx.runDir.writeJson(RUN_FILES.summary, summary);
    ctx.log.info({ loss, accuracy: summary['accuracy'] }, 'evaluated on the test split');
    return summary;
  },
};
