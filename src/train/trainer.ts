import * as tf from '../backend/tf.js';
import { buildForward, compiledOf, type CompiledParts } from './forward.js';
import { isFusedOptimizer, type FusedOptimizer } from './fused-optimizer.js';
import { learningRateOf, setLearningRate } from './optimizer.js';
import type { OptimizerState } from './types.js';

/** Runs training batches; each batch's loss and metrics stay on the backend until `flush`. */
export interface Trainer {
  readonly kind: 'fused' | 'keras';
  step(x: tf.Tensor, y: tf.Tensor): Promise<void>;
  /** The pending batches' [loss, ...metrics], in order; the tensors behind them are freed. */
  flush(): number[][];
  /** The optimizer's learning rate as compile set it: where schedules start. */
  readonly baseLearningRate: number;
  /** Changes the optimizer's learning rate from the next step on (learning-rate schedules). */
  setLearningRate(lr: number): void;
  /** The optimizer state, for a checkpoint (call after flush). */
  getState(): Promise<OptimizerState>;
  setState(state: OptimizerState): Promise<void>;
  dispose(): void;
}

/**
 * The training step built once: forward through the model's own layers (training mode), the
 * compiled loss and regularization as model.fit adds them, gradients, then one fused optimizer
 * kernel per weight. Same mathematics as model.fit, far fewer kernel launches.
 */
class FusedTrainer implements Trainer {
  readonly kind = 'fused';
  private readonly vars: tf.Variable[];
  private readonly optimizer: FusedOptimizer;
  private readonly compiled: CompiledParts;
  private readonly forward: (x: tf.Tensor) => tf.Tensor;
  private pending: tf.Scalar[][] = [];

  readonly baseLearningRate: number;

  constructor(model: tf.LayersModel, optimizer: FusedOptimizer) {
    this.forward = buildForward(model);
    this.vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    this.optimizer = optimizer;
    this.optimizer.bind(this.vars);
    this.baseLearningRate = optimizer.learningRate;
    this.compiled = compiledOf(model);
  }

  async step(x: tf.Tensor, y: tf.Tensor): Promise<void> {
    let pred: tf.Tensor | undefined;
    const { value, grads } = tf.variableGrads(() => {
      pred = tf.keep(this.forward(x));
      const loss = tf.mean(this.compiled.lossFunctions[0]!(y, pred)) as tf.Scalar;
      return this.compiled.calculateLosses().reduce<tf.Scalar>((total, r) => tf.add(total, r), loss);
    }, this.vars);
    this.optimizer.apply(this.vars.map((v) => grads[v.name]!));
    tf.dispose(Object.values(grads));
    const metrics = tf.tidy(() => this.compiled.metricsTensors.map(([fn]) => tf.mean(fn(y, pred!)) as tf.Scalar));
    pred!.dispose();
    this.pending.push([value, ...metrics]);
  }

  setLearningRate(lr: number): void {
    this.optimizer.learningRate = lr;
  }

  async getState(): Promise<OptimizerState> {
    return this.optimizer.getState();
  }

  async setState(state: OptimizerState): Promise<void> {
    this.optimizer.setState(state);
  }

  flush(): number[][] {
    const out = this.pending.map((ts) => ts.map((t) => t.dataSync()[0]!));
    tf.dispose(this.pending.flat());
    this.pending = [];
    return out;
  }

  dispose(): void {
    tf.dispose(this.pending.flat());
    this.optimizer.dispose();
  }
}

/** The stock path (tfjs-node and anything else): model.trainOnBatch with the compiled optimizer. */
class KerasTrainer implements Trainer {
  readonly kind = 'keras';
  private pending: number[][] = [];

  readonly baseLearningRate: number;

  constructor(private readonly model: tf.LayersModel) {
    this.baseLearningRate = learningRateOf(model.optimizer);
  }

  async step(x: tf.Tensor, y: tf.Tensor): Promise<void> {
    const out = await this.model.trainOnBatch(x, y);
    this.pending.push(Array.isArray(out) ? out : [out]);
  }

  setLearningRate(lr: number): void {
    setLearningRate(this.model.optimizer, lr);
  }

  flush(): number[][] {
    const out = this.pending;
    this.pending = [];
    return out;
  }

  async getState(): Promise<OptimizerState> {
    let weights;
    try {
      weights = await this.model.optimizer.getWeights();
    } catch (err) {
      return { arrays: [], scalars: {}, missing: (err as Error).message };
    }
    const arrays = weights.map((w) => ({ name: w.name, shape: w.tensor.shape, values: Float32Array.from(w.tensor.dataSync()) }));
    return { arrays, scalars: {} };
  }

  async setState(state: OptimizerState): Promise<void> {
    if (state.missing) return;
    const tensors = state.arrays.map((a) => ({ name: a.name, tensor: tf.tensor(a.values, [...a.shape]) }));
    // tfjs optimizers recompute derived scalars (Adam's beta powers) from the iteration count.
    await this.model.optimizer.setWeights(tensors);
    tf.dispose(tensors.map((t) => t.tensor));
  }

  dispose(): void {}
}

/** The trainer for the optimizer compile attached: the fused step for runner's own optimizer, model.trainOnBatch for tfjs's. */
export function createTrainer(model: tf.LayersModel): Trainer {
  return isFusedOptimizer(model.optimizer) ? new FusedTrainer(model, model.optimizer) : new KerasTrainer(model);
}
