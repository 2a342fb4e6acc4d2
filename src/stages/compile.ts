import * as tf from '../backend/tf.js';
import type { OptimizerSpec } from '../pipeline/spec.js';
import type { Stage, StageContext } from '../pipeline/stage.js';
import type { ModelOutput } from './types.js';

/** The optimizer a spec names, with its parameters (Keras names, tfjs implementations). */
export function createOptimizer(spec: OptimizerSpec): tf.Optimizer {
  if ('adam' in spec) {
    const o = spec.adam;
    return tf.train.adam(o.learningRate, o.beta1, o.beta2, o.epsilon);
  }
  if ('sgd' in spec) {
    const o = spec.sgd;
    return o.momentum > 0 || o.nesterov ? tf.train.momentum(o.learningRate, o.momentum, o.nesterov) : tf.train.sgd(o.learningRate);
  }
  const o = spec.rmsprop;
  return tf.train.rmsprop(o.learningRate, o.rho, o.momentum, o.epsilon, o.centered);
}

/** Attaches loss, optimizer and metrics to the built model. */
export const compile: Stage<ModelOutput, { build: ModelOutput }> = {
  name: 'compile',
  needs: ['build'],
  async run({ build: { model } }, ctx: StageContext) {
    const { loss, optimizer, metrics } = ctx.spec.compile;
    model.compile({ optimizer: createOptimizer(optimizer), loss, metrics: [...metrics] });
    return { model };
  },
};
