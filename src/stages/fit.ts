import * as tf from '@tensorflow/tfjs';
import seedrandom from 'seedrandom';
import { saveModel } from '../model/io.js';
import { RUN_FILES } from '../pipeline/run-dir.js';
import type { Stage, StageContext } from '../pipeline/stage.js';
import { evaluateSplit, fillBatch } from './batches.js';
import { EarlyStopping } from './early-stopping.js';
import type { EpochLogs, FitOutput, ModelOutput, Prepared } from './types.js';

/** Batches between two returns to the event loop. */
const YIELD_EVERY = 8;

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Fisher-Yates with the run's own seeded generator (model.fit would use Math.random). */
function shuffleInPlace(order: Uint32Array, rng: () => number): void {
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
}

/** Trains epoch by epoch from typed-array batches; writes metrics.jsonl each epoch and the model at the end. */
export const fit: Stage<FitOutput, { compile: ModelOutput; normalize: Prepared }> = {
  name: 'fit',
  needs: ['compile', 'normalize'],
  async run({ compile: { model }, normalize: data }, ctx: StageContext) {
    const { epochs, batchSize, shuffle, earlyStopping } = ctx.spec.train;
    const rng = seedrandom.alea(`${ctx.seed}:shuffle`);
    const { train, inputShape, targetShape } = data;
    const xSize = size(inputShape);
    const ySize = size(targetShape);
    const order = Uint32Array.from({ length: train.count }, (_, i) => i);
    const xBuf = new Float32Array(batchSize * xSize);
    const yBuf = new Float32Array(batchSize * ySize);
    const steps = Math.ceil(train.count / batchSize);
    const stopper = earlyStopping ? new EarlyStopping(earlyStopping) : undefined;
    const history: EpochLogs[] = [];
    let best: tf.Tensor[] | undefined;
    let stoppedEarly = false;

    for (let epoch = 1; epoch <= epochs && !stoppedEarly; epoch++) {
      const started = performance.now();
      if (shuffle) shuffleInPlace(order, rng);
      ctx.progress.epochStart(epoch, epochs, steps);
      const sums: number[] = [];
      for (let step = 0; step < steps; step++) {
        if (ctx.signal.aborted) throw new Error(`interrupted at epoch ${epoch}, batch ${step + 1}`);
        const from = step * batchSize;
        const to = Math.min(train.count, from + batchSize);
        const m = to - from;
        fillBatch(train, xSize, ySize, order, from, to, xBuf, yBuf);
        const x = tf.tensor(xBuf.subarray(0, m * xSize), [m, ...inputShape]);
        const y = tf.tensor(yBuf.subarray(0, m * ySize), [m, ...targetShape]);
        const out = await model.trainOnBatch(x, y);
        tf.dispose([x, y]);
        const values = Array.isArray(out) ? out : [out];
        if (!Number.isFinite(values[0])) throw new Error(`loss became ${values[0]} at epoch ${epoch}, batch ${step + 1}`);
        values.forEach((v, i) => (sums[i] = (sums[i] ?? 0) + v * m));
        ctx.progress.batch(step + 1);
        // Backends run synchronously under the awaits: let signals (Ctrl-C) and output through now and then.
        if (step % YIELD_EVERY === YIELD_EVERY - 1) await new Promise((resolve) => setImmediate(resolve));
      }
      const val = data.val.count > 0 ? await evaluateSplit(model, data.val, inputShape, targetShape, ctx.spec.evaluate.batchSize) : [];
      const logs: EpochLogs = {
        epoch,
        loss: sums[0]! / train.count,
        ...(sums.length > 1 ? { accuracy: sums[1]! / train.count } : {}),
        ...(val.length > 0 ? { val_loss: val[0]! } : {}),
        ...(val.length > 1 ? { val_accuracy: val[1]! } : {}),
        seconds: Number(((performance.now() - started) / 1000).toFixed(3)),
      };
      history.push(logs);
      ctx.runDir.appendJsonl(RUN_FILES.metrics, logs);
      ctx.progress.epochEnd(epoch, logs as unknown as Record<string, number>);
      ctx.log.info({ ...logs, tensors: tf.memory().numTensors }, 'epoch end');
      if (stopper) {
        const { improved, stop } = stopper.update(logs);
        if (improved && earlyStopping?.restoreBestWeights) {
          tf.dispose(best);
          best = model.getWeights().map((w) => w.clone());
        }
        stoppedEarly = stop && epoch < epochs;
        if (stoppedEarly) ctx.log.info({ epoch, bestEpoch: stopper.bestEpoch }, 'early stopping');
      }
    }
    if (best) {
      model.setWeights(best);
      tf.dispose(best);
      ctx.log.info({ epoch: stopper?.bestEpoch }, 'restored the best weights');
    }
    await saveModel(model, ctx.runDir);
    return { model, history, stoppedEarly, bestEpoch: stopper?.bestEpoch };
  },
};
