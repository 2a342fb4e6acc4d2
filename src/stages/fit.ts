import * as tf from '../backend/tf.js';
import seedrandom from 'seedrandom';
import { sizeOf } from '../data/features.js';
import { saveModel } from '../model/io.js';
import { RUN_FILES } from '../pipeline/run-dir.js';
import type { Stage, StageContext } from '../pipeline/stage.js';
import { baseLearningRate, learningRateAt } from '../train/lr-schedule.js';
import { createTrainer, type Trainer } from '../train/trainer.js';
import { evaluateSplit, fillBatch } from './batches.js';
import { EarlyStopping } from './early-stopping.js';
import type { EpochLogs, FitOutput, ModelOutput, Prepared } from './types.js';

/** Batches between two reads of the pending losses (NaN check, progress) and returns to the event loop. */
const SYNC_EVERY = 16;

/** Fisher-Yates with the run's own seeded generator (model.fit would use Math.random). */
function shuffleInPlace(order: Uint32Array, rng: () => number): void {
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
}

/** Deep copies of the weights' values (tf.clone would share storage the fused optimizer updates in place). */
function snapshot(model: tf.LayersModel): { values: Float32Array; shape: number[] }[] {
  return model.getWeights().map((w) => ({ values: (w.dataSync() as Float32Array).slice(), shape: w.shape }));
}

/** One epoch of training batches; returns the epoch's mean loss and metrics. */
async function trainEpoch(trainer: Trainer, data: Prepared, order: Uint32Array, batchSize: number, epoch: number, ctx: StageContext): Promise<number[]> {
  const { train, inputShape, targetShape } = data;
  const xSize = sizeOf(inputShape);
  const ySize = sizeOf(targetShape);
  const xBuf = new Float32Array(batchSize * xSize);
  const yBuf = new Float32Array(batchSize * ySize);
  const steps = Math.ceil(train.count / batchSize);
  const sums: number[] = [];
  let flushed = 0;
  const flush = () => {
    for (const values of trainer.flush()) {
      const m = Math.min(batchSize, train.count - flushed * batchSize);
      flushed++;
      if (!Number.isFinite(values[0])) throw new Error(`loss became ${values[0]} at epoch ${epoch}, batch ${flushed}`);
      values.forEach((v, i) => (sums[i] = (sums[i] ?? 0) + v * m));
    }
  };
  for (let step = 0; step < steps; step++) {
    if (ctx.signal.aborted) throw new Error(`interrupted at epoch ${epoch}, batch ${step + 1}`);
    const from = step * batchSize;
    const m = Math.min(train.count, from + batchSize) - from;
    fillBatch(train, ySize, order, from, from + m, xBuf, yBuf);
    const x = tf.tensor(xBuf.subarray(0, m * xSize), [m, ...inputShape]);
    const y = tf.tensor(yBuf.subarray(0, m * ySize), [m, ...targetShape]);
    await trainer.step(x, y);
    tf.dispose([x, y]);
    ctx.progress.batch(step + 1);
    if (step % SYNC_EVERY === SYNC_EVERY - 1) {
      flush();
      // Backends run synchronously under the awaits: let signals (Ctrl-C) and output through now and then.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  flush();
  await new Promise((resolve) => setImmediate(resolve));
  return sums.map((s) => s / train.count);
}

/** Trains epoch by epoch from typed-array batches; writes metrics.jsonl each epoch and the model at the end. */
export const fit: Stage<FitOutput, { compile: ModelOutput; normalize: Prepared }> = {
  name: 'fit',
  needs: ['compile', 'normalize'],
  async run({ compile: { model }, normalize: data }, ctx: StageContext) {
    const { epochs, batchSize, shuffle, earlyStopping, lrSchedule } = ctx.spec.train;
    const rng = seedrandom.alea(`${ctx.seed}:shuffle`);
    const order = Uint32Array.from({ length: data.train.count }, (_, i) => i);
    const trainer = createTrainer(model, ctx.spec.compile.optimizer);
    ctx.annotate('trainer', trainer.kind);
    const stopper = earlyStopping ? new EarlyStopping(earlyStopping) : undefined;
    const history: EpochLogs[] = [];
    let best: ReturnType<typeof snapshot> | undefined;
    let stoppedEarly = false;
    try {
      for (let epoch = 1; epoch <= epochs && !stoppedEarly; epoch++) {
        const started = performance.now();
        const lr = lrSchedule ? learningRateAt(lrSchedule, baseLearningRate(ctx.spec.compile.optimizer), epoch, epochs) : undefined;
        if (lr !== undefined) trainer.setLearningRate(lr);
        if (shuffle) shuffleInPlace(order, rng);
        ctx.progress.epochStart(epoch, epochs, Math.ceil(data.train.count / batchSize));
        const [loss, ...metrics] = await trainEpoch(trainer, data, order, batchSize, epoch, ctx);
        const [valLoss, ...valMetrics] = data.val.count > 0 ? await evaluateSplit(model, data.val, data.inputShape, data.targetShape, ctx.spec.evaluate.batchSize) : [];
        const names = ctx.spec.compile.metrics;
        const logs: EpochLogs = {
          epoch,
          loss: loss!,
          ...Object.fromEntries(names.map((n, i) => [n, metrics[i]!])),
          ...(valLoss !== undefined ? { val_loss: valLoss, ...Object.fromEntries(names.map((n, i) => [`val_${n}`, valMetrics[i]!])) } : {}),
          ...(lr !== undefined ? { lr } : {}),
          seconds: Number(((performance.now() - started) / 1000).toFixed(3)),
        };
        history.push(logs);
        ctx.runDir.appendJsonl(RUN_FILES.metrics, logs);
        ctx.progress.epochEnd(epoch, logs as unknown as Record<string, number>);
        ctx.log.info({ ...logs, tensors: tf.memory().numTensors }, 'epoch end');
        if (stopper) {
          const { improved, stop } = stopper.update(logs);
          if (improved && earlyStopping?.restoreBestWeights) best = snapshot(model);
          stoppedEarly = stop && epoch < epochs;
          if (stoppedEarly) ctx.log.info({ epoch, bestEpoch: stopper.bestEpoch }, 'early stopping');
        }
      }
    } finally {
      trainer.dispose();
    }
    if (best) {
      const tensors = best.map((w) => tf.tensor(w.values, w.shape));
      model.setWeights(tensors);
      tf.dispose(tensors);
      ctx.log.info({ epoch: stopper?.bestEpoch }, 'restored the best weights');
    }
    await saveModel(model, ctx.runDir);
    return { model, history, stoppedEarly, bestEpoch: stopper?.bestEpoch };
  },
};
