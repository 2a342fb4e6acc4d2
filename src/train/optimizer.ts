import * as tf from '../backend/tf.js';
import type { OptimizerSpec } from '../spec/types.js';
import { FusedOptimizer, fusedSupported, usesMomentum } from './fused-optimizer.js';

/**
 * The run's one optimizer, built by compile and stepped by fit: runner's fused kernels where the
 * backend has them (adam, sgd, rmsprop on cpu and wasm), tfjs's own optimizer otherwise.
 */
export function createOptimizer(spec: OptimizerSpec, backend: string = tf.getBackend()): tf.Optimizer {
  return fusedSupported(backend, spec) ? new FusedOptimizer(spec) : stockOptimizer(spec);
}

/** tfjs's own optimizer for a spec (Keras names and parameters): the path tfjs-node takes, and the benchmark's model.fit baseline. */
export function stockOptimizer(spec: OptimizerSpec): tf.Optimizer {
  if ('adam' in spec) {
    const o = spec.adam;
    return tf.train.adam(o.learningRate, o.beta1, o.beta2, o.epsilon);
  }
  if ('sgd' in spec) {
    const o = spec.sgd;
    return usesMomentum(o) ? tf.train.momentum(o.learningRate, o.momentum, o.nesterov) : tf.train.sgd(o.learningRate);
  }
  if ('rmsprop' in spec) {
    const o = spec.rmsprop;
    return tf.train.rmsprop(o.learningRate, o.rho, o.momentum, o.epsilon, o.centered);
  }
  if ('adamax' in spec) {
    const o = spec.adamax;
    return tf.train.adamax(o.learningRate, o.beta1, o.beta2, o.epsilon, o.decay);
  }
  if ('adagrad' in spec) return tf.train.adagrad(spec.adagrad.learningRate, spec.adagrad.initialAccumulatorValue);
  return tf.train.adadelta(spec.adadelta.learningRate, spec.adadelta.rho, spec.adadelta.epsilon);
}

/** An optimizer's current learning rate (tfjs keeps it in a field of every optimizer). */
export const learningRateOf = (optimizer: tf.Optimizer): number => (optimizer as unknown as { learningRate: number }).learningRate;

/** Sets the learning rate from the next step on (schedules); SGD and momentum keep -lr in a tensor of their own. */
export function setLearningRate(optimizer: tf.Optimizer, lr: number): void {
  const o = optimizer as unknown as { learningRate: number; setLearningRate?: (lr: number) => void };
  if (o.setLearningRate) o.setLearningRate(lr);
  else o.learningRate = lr;
}
