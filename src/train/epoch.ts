import * as tf from '../backend/tf.js';
import { sizeOf } from '../data/features.js';
import type { Prepared } from '../data/prepared.js';
import { fillBatch } from './batches.js';
import type { Cursor } from './checkpoint.js';
import type { Trainer } from './trainer.js';

/** Batches between two reads of the pending losses (NaN check, progress) and returns to the event loop. */
const SYNC_EVERY = 16;

/** What an epoch reports to and listens for: batch progress, and the signal to stop after the current batch. */
export interface EpochIO {
  readonly signal: AbortSignal;
  readonly progress: { batch(done: number): void };
}

/** Where an epoch stopped: finished (its mean loss and metrics), or interrupted after `step` batches. */
export type EpochOutcome = { done: true; means: number[] } | { done: false; step: number; sums: number[] };

/** One epoch of training batches, from `from.step` on when it continues an interrupted epoch. */
export async function trainEpoch(trainer: Trainer, data: Prepared, order: Uint32Array, batchSize: number, epoch: number, io: EpochIO, from?: Cursor): Promise<EpochOutcome> {
  const { train, inputShape, targetShape } = data;
  const xSize = sizeOf(inputShape);
  const ySize = sizeOf(targetShape);
  // A batch larger than the data is the whole data: buffers for more rows than there are would only waste memory.
  const xBuf = new Float32Array(Math.min(batchSize, train.count) * xSize);
  const yBuf = new Float32Array(Math.min(batchSize, train.count) * ySize);
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
    if (io.signal.aborted) {
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
    io.progress.batch(step + 1);
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
