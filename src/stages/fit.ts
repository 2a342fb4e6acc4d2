import * as tf from '../backend/tf.js';
import { sizeOf } from '../data/features.js';
import { saveModel } from '../model/io.js';
import { RUN_FILES } from '../runs/run-dir.js';
import type { RunnerStage, StageContext } from './stage.js';
import { saveCheckpoint, type Checkpoint, type Cursor } from '../train/checkpoint.js';
import { learningRateAt } from '../train/lr-schedule.js';
import { shuffleInPlace, shuffleRandom } from '../core/random.js';
import { createTrainer, type Trainer } from '../train/trainer.js';
import { type NamedArray } from '../train/types.js';
import { evaluateSplit, fillBatch } from '../train/batches.js';
import { EarlyStopping } from '../train/early-stopping.js';
import type { FitOutput, ModelOutput } from './types.js';
import type { EpochLogs } from '../train/types.js';
import type { Prepared } from '../data/prepared.js';

/** Batches between two reads of the pending losses (NaN check, progress) and returns to the event loop. */
const SYNC_EVERY = 16;

/** Deep copies of the weights' values, by position (tf.clone would share storage the fused optimizer updates in place). */
function snapshot(model: tf.LayersModel): NamedArray[] {
  return model.getWeights().map((w, i) => ({ name: `weight/${i}`, values: (w.dataSync() as Float32Array).slice(), shape: w.shape }));
}

function setWeights(model: tf.LayersModel, arrays: readonly NamedArray[]): void {
  const tensors = arrays.map((w) => tf.tensor(w.values, [...w.shape]));
  model.setWeights(tensors);
  tf.dispose(tensors);
}

/** Where an epoch stopped: finished (its mean loss and metrics), or interrupted after `step` batches. */
type EpochOutcome = { done: true; means: number[] } | { done: false; step: number; sums: number[] };

/** One epoch of training batches, from `from.step` on when it continues an interrupted epoch. */
async function trainEpoch(trainer: Trainer, data: Prepared, order: Uint32Array, batchSize: number, epoch: number, ctx: StageContext, from?: Cursor): Promise<EpochOutcome> {
  const { train, inputShape, targetShape } = data;
  const xSize = sizeOf(inputShape);
  const ySize = sizeOf(targetShape);
  const xBuf = new Float32Array(batchSize * xSize);
  const yBuf = new Float32Array(batchSize * ySize);
  const steps = Math.ceil(train.count / batchSize);
  const sums: number[] = [...(from?.sums ?? [])];
  let flushed = from?.step ?? 0;
  const flush = () => {
    for (const values of trainer.flush()) {
      const m = Math.min(batchSize, train.count - flushed * batchSize);
      flushed++;
      if (!Number.isFinite(values[0])) throw new Error(`loss became ${values[0]} at epoch ${epoch}, batch ${flushed}`);
      values.forEach((v, i) => (sums[i] = (sums[i] ?? 0) + v * m));
    }
  };
  for (let step = from?.step ?? 0; step < steps; step++) {
    if (ctx.signal.aborted) {
      flush();
      return { done: false, step, sums };
    }
    const start = step * batchSize;
    const m = Math.min(train.count, start + batchSize) - start;
    fillBatch(train, ySize, order, start, start + m, xBuf, yBuf);
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
  return { done: true, means: sums.map((s) => s / train.count) };
}

/** Trains epoch by epoch from typed-array batches; writes metrics.jsonl and checkpoints each epoch, the model at the end. */
export const fit: RunnerStage<'fit', 'compile' | 'normalize'> = {
  name: 'fit',
  needs: ['compile', 'normalize'],
  async run({ compile: { model }, normalize: data }, ctx) {
    const { epochs, batchSize, shuffle, earlyStopping, lrSchedule, checkpoint: every } = ctx.spec.train;
    const trainer = createTrainer(model);
    ctx.annotate('trainer', trainer.kind);
    const stopper = earlyStopping ? new EarlyStopping(earlyStopping) : undefined;
    const monitor = data.val.count > 0 ? 'val_loss' : 'loss';
    // checkpoint: best follows early stopping's monitor, or its own loss tracker.
    const tracker = every === 'best' ? stopper ?? new EarlyStopping({ monitor, patience: Infinity, minDelta: 0, mode: 'min', restoreBestWeights: false }) : undefined;
    const order = Uint32Array.from({ length: data.train.count }, (_, i) => i);
    let cursor: Cursor = { epoch: 1, step: 0, sums: [] };
    let rng = shuffleRandom(ctx.seed);
    let history: EpochLogs[] = [];
    let best: NamedArray[] | undefined;
    if (ctx.resume) ({ cursor, rng, history, best } = await resumeFrom(ctx.resume, model, trainer, { stopper, tracker }, ctx));
    if (cursor.order) order.set(cursor.order);

    /** The cursor at the start of an epoch: the order is the last epoch's, to be shuffled again. */
    const boundary = (epoch: number): Cursor => ({ epoch, step: 0, sums: [], order: order.slice() });
    const checkpoint = async (reason: Checkpoint['reason'], at: Cursor) => {
      if (every === 'none') return;
      const global = ctx.random?.state();
      saveCheckpoint(ctx.runDir.file(RUN_FILES.checkpoint), {
        reason, cursor: at, weights: snapshot(model), optimizer: await trainer.getState(), ...(best ? { best } : {}),
        random: { shuffle: rng.state(), ...(global ? { global } : {}) },
        earlyStopping: { stopper: stopper?.toJSON(), best: tracker && tracker !== stopper ? tracker.toJSON() : undefined },
        trainer: trainer.kind, backend: tf.getBackend(),
      });
    };

    let stoppedEarly = false;
    try {
      for (let epoch = cursor.epoch; epoch <= epochs && !stoppedEarly; epoch++) {
        const started = performance.now();
        const continuing = epoch === cursor.epoch && cursor.within === true;
        if (ctx.signal.aborted) {
          await checkpoint('interrupt', boundary(epoch));
          throw new Error(`interrupted before epoch ${epoch}${every === 'none' ? '' : '; checkpoint written'}`);
        }
        const lr = lrSchedule ? learningRateAt(lrSchedule, trainer.baseLearningRate, epoch, epochs) : undefined;
        if (lr !== undefined) trainer.setLearningRate(lr);
        if (!continuing && shuffle) shuffleInPlace(order, rng);
        ctx.progress.epochStart(epoch, epochs, Math.ceil(data.train.count / batchSize));
        const outcome = await trainEpoch(trainer, data, order, batchSize, epoch, ctx, continuing ? cursor : undefined);
        if (!outcome.done) {
          await checkpoint('interrupt', { epoch, step: outcome.step, sums: outcome.sums, order: order.slice(), within: true });
          throw new Error(`interrupted in epoch ${epoch} after batch ${outcome.step}${every === 'none' ? '' : '; checkpoint written'}`);
        }
        const [loss, ...metrics] = outcome.means;
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
        const verdict = stopper?.update(logs);
        if (verdict?.improved && earlyStopping?.restoreBestWeights) best = snapshot(model);
        stoppedEarly = (verdict?.stop ?? false) && epoch < epochs;
        if (stoppedEarly) ctx.log.info({ epoch, bestEpoch: stopper?.bestEpoch }, 'early stopping');
        // checkpoint: best takes early stopping's verdict when it follows the same monitor.
        const improved = tracker === stopper ? verdict?.improved : tracker?.update(logs).improved;
        if (every === 'best' ? improved : typeof every === 'number' && epoch % every === 0) await checkpoint(every === 'best' ? 'best' : 'epoch', boundary(epoch + 1));
      }
    } finally {
      trainer.dispose();
    }
    if (best) {
      setWeights(model, best);
      ctx.log.info({ epoch: stopper?.bestEpoch }, 'restored the best weights');
    }
    await saveModel(model, ctx.runDir.file(RUN_FILES.model));
    return { model, history, stoppedEarly, bestEpoch: stopper?.bestEpoch };
  },
};

/** Puts a checkpoint back: weights, optimizer, random generators, early stopping, and the epochs already logged. */
async function resumeFrom(cp: Checkpoint, model: tf.LayersModel, trainer: Trainer, trackers: { stopper?: EarlyStopping; tracker?: EarlyStopping }, ctx: StageContext) {
  if (cp.trainer !== trainer.kind || cp.backend !== tf.getBackend()) {
    ctx.log.warn(`the checkpoint was written by the ${cp.trainer} trainer on ${cp.backend}; resuming with ${trainer.kind} on ${tf.getBackend()}: the result will not be identical to an uninterrupted run`);
  }
  setWeights(model, cp.weights);
  if (cp.optimizer.missing) ctx.log.warn(`the checkpoint has no optimizer state (${cp.optimizer.missing}); the optimizer starts afresh, so the result will differ from an uninterrupted run`);
  await trainer.setState(cp.optimizer);
  if (cp.random.global) ctx.random?.restore(cp.random.global);
  if (trackers.stopper && cp.earlyStopping?.stopper) trackers.stopper.restore(cp.earlyStopping.stopper);
  if (trackers.tracker && trackers.tracker !== trackers.stopper && cp.earlyStopping?.best) trackers.tracker.restore(cp.earlyStopping.best);
  const history = ctx.runDir.readJsonl<EpochLogs>(RUN_FILES.metrics).filter((l) => l.epoch < cp.cursor.epoch);
  // Epochs logged after the checkpoint (checkpoint: best, or every N) are trained again: drop their lines.
  ctx.runDir.setJsonl(RUN_FILES.metrics, history);
  ctx.log.info({ epoch: cp.cursor.epoch, step: cp.cursor.step, reason: cp.reason }, 'resumed from the checkpoint');
  return { cursor: cp.cursor, rng: shuffleRandom(ctx.seed, cp.random.shuffle), history, best: cp.best ? [...cp.best] : undefined };
}
