import * as tf from '../backend/tf.js';

/**
 * x·W with a gradient that avoids transposed matrix multiplies: the wasm backend runs
 * matMul(a, b, transposeA) about ten times slower than an explicit transpose followed by a plain
 * matMul (2.4 ms against 0.23 ms for the seed MLP's first layer). Same products and sums.
 */
function matMulFast(needInputGrad: boolean): (x: tf.Tensor, w: tf.Tensor) => tf.Tensor {
  return tf.customGrad((x, w, save) => {
    (save as tf.GradSaveFunc)([x as tf.Tensor2D, w as tf.Tensor2D]);
    return {
      value: tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D),
      gradFunc: (dy, saved) => {
        const [a, b] = saved as tf.Tensor2D[];
        const dyT = dy as tf.Tensor2D;
        const dw = tf.matMul(tf.transpose(a!), dyT);
        // The first layer's input needs no gradient: skip the largest multiply of the backward pass.
        const dx = needInputGrad ? tf.matMul(dyT, tf.transpose(b!)) : tf.zerosLike(a!);
        return [dx, dw];
      },
    };
  }) as (x: tf.Tensor, w: tf.Tensor) => tf.Tensor;
}

interface DenseLike {
  getClassName(): string;
  kernel: { read(): tf.Tensor };
  bias?: { read(): tf.Tensor } | null;
  activation: { getClassName(): string; apply(x: tf.Tensor): tf.Tensor };
}

/** Whether runner's forward pass can stand in for this layer (anything else goes through layer.apply). */
const isDense = (layer: tf.layers.Layer): boolean => layer.getClassName() === 'Dense' && (layer as unknown as DenseLike).kernel !== undefined;

type LossOrMetric = (y: tf.Tensor, p: tf.Tensor) => tf.Tensor;

/** What compile attached to a model: its loss, metric functions and regularization penalties. */
export interface CompiledParts {
  lossFunctions: LossOrMetric[];
  metricsTensors: [LossOrMetric, number][];
  calculateLosses(): tf.Scalar[];
}

/** The compiled parts (a Sequential keeps them on the functional model inside it). */
export function compiledOf(model: tf.LayersModel): CompiledParts {
  return ((model as unknown as { model?: CompiledParts }).model ?? model) as unknown as CompiledParts;
}

/**
 * The model's forward pass, built once: Dense layers as matMul + bias + the layer's own
 * activation (the same functions tfjs-layers uses, without its fused matMul, which the wasm
 * backend runs several times slower), every other layer through its own apply (so Dropout
 * drops only when `training`). Dense inputs that are not 2-D go through the layer's apply too.
 */
export function buildForward(model: tf.LayersModel, training = true): (x: tf.Tensor) => tf.Tensor {
  const steps = model.layers.map((layer, i) => {
    if (!isDense(layer)) return (x: tf.Tensor) => layer.apply(x, { training }) as tf.Tensor;
    const dense = layer as unknown as DenseLike;
    const matMul = matMulFast(i > 0);
    const linear = dense.activation.getClassName() === 'Linear';
    return (x: tf.Tensor) => {
      if (x.rank !== 2) return layer.apply(x, { training }) as tf.Tensor;
      let out = matMul(x, dense.kernel.read());
      if (dense.bias) out = tf.add(out, dense.bias.read());
      return linear ? out : dense.activation.apply(out);
    };
  });
  return (x) => steps.reduce((out, step) => step(out), x);
}
