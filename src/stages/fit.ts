import * as tf from '../backend/tf.js';
import { RunPaused } from '../core/errors.js';
import { shuffleInPlace, shuffleRandom } from '../core/random.js';
import type { Prepared } from '../data/prepared.js';
import { saveModel } from '../model/io.js';
import { RUN_FILES } from '../runs/run-dir.js';
import { evaluateSplit } from '../train/batches.js';
import { saveCheckpoint, type Checkpoint, type Cursor } from '../train/checkpoint.js';
import { BestValue, EarlyStopping } from '../train/early-stopping.js';
import { trainEpoch } from '../train/epoch.js';
import { learningRateAt } from '../train/lr-schedule.js';
import { createTrainer, type Trainer } from '../train/trainer.js';
import type { EpochLogs, NamedArray } from '../train/types.js';
import { setWeights, snapshot } from '../train/weights.js';
import type { RunnerStage, StageContext } from './stage.js';

/** Trains epoch by epoch from typed-array batches; writes metrics.jsonl and checkpoints each epoch, the model at the end. */
export const fit: RunnerStage<'fit', 'compile' | 'normalize'> = {
  name: 'fit',
  needs: ['compile', 'normalize'],
  async run({ compile: { model }, normalize: data }, ctx) {
    const trainer = createTrainer(model);
    ctx.annotate('trainer', trainer.kind);
    const run = new FitRun(model, trainer, data, ctx);
    try {
      if (ctx.resume) await run.resumeFrom(ctx.resume);
      for (let epoch = run.cursor.epoch; epoch <= ctx.spec.train.epochs; epoch++) {
        if (await run.epoch(epoch)) break;
        if (ctx.until && epoch >= ctx.until.epochs && epoch < ctx.spec.train.epochs) await run.pause(epoch, ctx.until.reason);
      }
    } finally {
      trainer.dispose();
    }
    if (run.bestWeights) {
      setWeights(model, run.bestWeights);
      ctx.log.info({ epoch: run.stopper?.bestEpoch }, 'restored the best weights');
    }
    await saveModel(model, ctx.runDir.file(RUN_FILES.model));
    return { model, history: run.history, stoppedEarly: run.stoppedEarly, bestEpoch: run.stopper?.bestEpoch };
  },
};

/** One fit: where training stands (cursor, example order, generators, history) and how it checkpoints and ends each epoch. */
class FitRun {
  readonly order: Uint32Array;
  cursor: Cursor = { epoch: 1, step: 0, sums: [] };
  history: EpochLogs[] = [];
  /** The restoreBestWeights snapshot. */
  bestWeights: NamedArray[] | undefined;
  stoppedEarly = false;
  readonly stopper: EarlyStopping | undefined;
  /** What checkpoint: best follows: early stopping's monitor, or the loss when there is no early stopping. */
  private readonly best: BestValue;
  private rng: ReturnType<typeof shuffleRandom>;

  constructor(private readonly model: tf.LayersModel, private readonly trainer: Trainer, private readonly data: Prepared, private readonly ctx: StageContext) {
    const { earlyStopping } = ctx.spec.train;
    this.stopper = earlyStopping ? new EarlyStopping(earlyStopping) : undefined;
    this.best = this.stopper?.best ?? new BestValue(data.val.count > 0 ? 'val_loss' : 'loss', 'min', 0);
    this.order = Uint32Array.from({ length: data.train.count }, (_, i) => i);
    this.rng = shuffleRandom(ctx.seed);
  }

  /** Trains one epoch, logs it and checkpoints as the spec asks; true when training should stop (early stopping). */
  async epoch(epoch: number): Promise<boolean> {
    const { ctx, data, trainer } = this;
    const { epochs, batchSize, shuffle, lrSchedule, checkpoint: every } = ctx.spec.train;
    const started = performance.now();
    const continuing = epoch === this.cursor.epoch && this.cursor.within === true;
    if (ctx.signal.aborted) await this.interrupted(this.boundary(epoch), `before epoch ${epoch}`);
    const lr = lrSchedule ? learningRateAt(lrSchedule, trainer.baseLearningRate, epoch, epochs) : undefined;
    if (lr !== undefined) trainer.setLearningRate(lr);
    if (!continuing && shuffle) shuffleInPlace(this.order, this.rng);
    ctx.progress.epochStart(epoch, epochs, Math.ceil(data.train.count / batchSize));
    const outcome = await trainEpoch(trainer, data, this.order, batchSize, epoch, ctx, continuing ? this.cursor : undefined);
    if (!outcome.done) {
      await this.interrupted({ epoch, step: outcome.step, sums: outcome.sums, order: this.order.slice(), within: true }, `in epoch ${epoch} after batch ${outcome.step}`);
    }
    const logs = await this.logs(epoch, outcome.done ? outcome.means : [], lr, started);
    const verdict = this.stopper ? this.stopper.update(logs) : { improved: this.best.update(logs), stop: false };
    if (verdict.improved && ctx.spec.train.earlyStopping?.restoreBestWeights) this.bestWeights = snapshot(this.model);
    this.stoppedEarly = verdict.stop && epoch < epochs;
    if (this.stoppedEarly) ctx.log.info({ epoch, bestEpoch: this.stopper?.bestEpoch }, 'early stopping');
    if (every === 'best' ? verdict.improved : typeof every === 'number' && epoch % every === 0) await this.checkpoint(every === 'best' ? 'best' : 'epoch', this.boundary(epoch + 1));
    return this.stoppedEarly;
  }

  /** The epoch's line of metrics.jsonl: training means, validation scores, learning rate, seconds; recorded and shown. */
  private async logs(epoch: number, means: readonly number[], lr: number | undefined, started: number): Promise<EpochLogs> {
    const { ctx, data } = this;
    const [loss, ...metrics] = means;
    const [valLoss, ...valMetrics] = data.val.count > 0 ? await evaluateSplit(this.model, data.val, data.inputShape, data.targetShape, ctx.spec.evaluate.batchSize) : [];
    const names = ctx.spec.compile.metrics;
    const logs: EpochLogs = {
      epoch,
      loss: loss!,
      ...Object.fromEntries(names.map((n, i) => [n, metrics[i]!])),
      ...(valLoss !== undefined ? { val_loss: valLoss, ...Object.fromEntries(names.map((n, i) => [`val_${n}`, valMetrics[i]!])) } : {}),
      ...(lr !== undefined ? { lr } : {}),
      seconds: Number(((performance.now() - started) / 1000).toFixed(3)),
    };
    this.history.push(logs);
    ctx.runDir.appendJsonl(RUN_FILES.metrics, logs);
    ctx.progress.epochEnd(epoch, logs);
    ctx.log.info({ ...logs, tensors: tf.memory().numTensors }, 'epoch end');
    return logs;
  }

  /** The cursor at the start of an epoch: the order is the last epoch's, to be shuffled again. */
  private boundary(epoch: number): Cursor {
    return { epoch, step: 0, sums: [], order: this.order.slice() };
  }

  /**
   * A rung of an adaptive sweep: checkpoints the start of the next epoch (whatever train.checkpoint
   * says, since the sweep may continue this run) and ends the run as stopped, not failed.
   */
  async pause(epoch: number, reason: string): Promise<never> {
    await this.checkpoint('rung', this.boundary(epoch + 1), true);
    this.ctx.log.info({ epoch, reason }, 'stopped');
    throw new RunPaused(`stopped after epoch ${epoch}: ${reason}`, epoch);
  }

  /** Ctrl-C: checkpoints where training stands, then ends the stage. */
  private async interrupted(at: Cursor, where: string): Promise<never> {
    await this.checkpoint('interrupt', at);
    throw new Error(`interrupted ${where}${this.ctx.spec.train.checkpoint === 'none' ? '' : '; checkpoint written'}`);
  }

  private async checkpoint(reason: Checkpoint['reason'], at: Cursor, always = false): Promise<void> {
    const { ctx, trainer } = this;
    if (ctx.spec.train.checkpoint === 'none' && !always) return;
    const global = ctx.random?.state();
    saveCheckpoint(ctx.runDir.file(RUN_FILES.checkpoint), {
      reason, cursor: at, weights: snapshot(this.model), optimizer: await trainer.getState(), ...(this.bestWeights ? { best: this.bestWeights } : {}),
      random: { shuffle: this.rng.state(), ...(global ? { global } : {}) },
      earlyStopping: this.stopper ? { stopper: this.stopper.toJSON() } : { best: this.best.toJSON() },
      trainer: trainer.kind, backend: tf.getBackend(),
    });
  }

  /** Puts a checkpoint back: weights, optimizer, random generators, early stopping, and the epochs already logged. */
  async resumeFrom(cp: Checkpoint): Promise<void> {
    const { ctx, trainer } = this;
    if (cp.trainer !== trainer.kind || cp.backend !== tf.getBackend()) {
      ctx.log.warn(`the checkpoint was written by the ${cp.trainer} trainer on ${cp.backend}; resuming with ${trainer.kind} on ${tf.getBackend()}: the result will not be identical to an uninterrupted run`);
    }
    setWeights(this.model, cp.weights);
    if (cp.optimizer.missing) ctx.log.warn(`the checkpoint has no optimizer state (${cp.optimizer.missing}); the optimizer starts afresh, so the result will differ from an uninterrupted run`);
    await trainer.setState(cp.optimizer);
    if (cp.random.global) ctx.random?.restore(cp.random.global);
    const saved = this.stopper ? cp.earlyStopping?.stopper : cp.earlyStopping?.best;
    if (saved) (this.stopper ?? this.best).restore(saved);
    // Epochs logged after the checkpoint (checkpoint: best, or every N) are trained again: drop their lines.
    this.history = ctx.runDir.readJsonl<EpochLogs>(RUN_FILES.metrics).filter((l) => l.epoch < cp.cursor.epoch);
    ctx.runDir.setJsonl(RUN_FILES.metrics, this.history);
    ctx.log.info({ epoch: cp.cursor.epoch, step: cp.cursor.step, reason: cp.reason }, 'resumed from the checkpoint');
    this.cursor = cp.cursor;
    this.rng = shuffleRandom(ctx.seed, cp.random.shuffle);
    this.bestWeights = cp.best ? [...cp.best] : undefined;
    if (cp.cursor.order) this.order.set(cp.cursor.order);
  }
}
