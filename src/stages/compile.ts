import * as tf from '../backend/tf.js';
import { createOptimizer } from '../train/optimizer.js';
import type { RunnerStage, StageContext } from './stage.js';
import type { ModelOutput } from './types.js';

/**
 * Runs one forward and backward pass on a single zero example, so that a kernel the backend
 * lacks (tfjs 4.22's wasm backend has no Conv2DBackpropFilter of its own, for one) is reported
 * now, with the layer types and a backend to try, instead of failing mid-fit.
 */
export function checkTrainable(model: tf.LayersModel, backend: string): void {
  const inputShape = (model.inputs[0]!.shape as (number | null)[]).slice(1) as number[];
  try {
    tf.tidy(() => {
      const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
      const x = tf.zeros([1, ...inputShape]);
      // Inference mode: training mode would move batch normalization's running statistics.
      const { grads } = tf.variableGrads(() => tf.sum(model.apply(x, { training: false }) as tf.Tensor) as tf.Scalar, vars);
      tf.dispose(Object.values(grads));
    });
  } catch (err) {
    const message = (err as Error).message;
    const kernel = /Kernel '(\w+)' not registered/.exec(message)?.[1];
    if (!kernel) throw err;
    const layers = [...new Set(model.layers.map((l) => l.getClassName()))].join(', ');
    throw new Error(`the ${backend} backend cannot train this model: it has no '${kernel}' kernel (layers: ${layers}); try --backend ${backend === 'cpu' ? 'wasm' : 'cpu'}`);
  }
}

/** Attaches loss, metrics and the run's one optimizer (which fit steps) to the built model, after checking the backend can train it. */
export const compile: RunnerStage<'compile', 'build'> = {
  name: 'compile',
  needs: ['build'],
  async run({ build: { model } }, ctx) {
    checkTrainable(model, tf.getBackend());
    const { loss, optimizer, metrics } = ctx.spec.compile;
    // tfjs-layers knows 'recall' only as a function.
    model.compile({ optimizer: createOptimizer(optimizer, tf.getBackend()), loss, metrics: metrics.map((m) => (m === 'recall' ? tf.metrics.recall : m)) });
    return { model };
  },
};
