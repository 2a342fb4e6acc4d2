import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import seedrandom from 'seedrandom';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerTrainingKernels } from '../../src/backend/training-kernels.js';
import { createModel } from '../../src/model/create.js';
import type { LayerSpec } from '../../src/spec/types.js';

beforeAll(async () => {
  await tf.setBackend('wasm');
  registerTrainingKernels();
});

const weighted = { activation: 'relu', useBias: true, kernelInitializer: 'glorotUniform', biasInitializer: 'zeros' } as const;
const conv = { ...weighted, filters: 3, kernelSize: 3, strides: 1, padding: 'same' } as const;

/** Every layer runner offers, each in a small model on [6, 6, 2] inputs, ending in a dense layer. */
const LAYERS: { name: string; layers: LayerSpec[] }[] = [
  { name: 'conv2d (same, stride 2)', layers: [{ conv2d: { ...conv, strides: 2 } }, { flatten: {} }] },
  { name: 'conv2d (valid)', layers: [{ conv2d: { ...conv, padding: 'valid', activation: 'tanh' } }, { flatten: {} }] },
  { name: 'maxPooling2d', layers: [{ conv2d: conv }, { maxPooling2d: { poolSize: 2, padding: 'valid' } }, { flatten: {} }] },
  { name: 'averagePooling2d', layers: [{ conv2d: conv }, { averagePooling2d: { poolSize: 3, strides: 2, padding: 'same' } }, { flatten: {} }] },
  { name: 'globalAveragePooling2d', layers: [{ conv2d: conv }, { globalAveragePooling2d: {} }] },
  { name: 'batchNormalization', layers: [{ conv2d: conv }, { batchNormalization: { momentum: 0.9, epsilon: 0.001, center: true, scale: true } }, { flatten: {} }] },
  { name: 'reshape and activation', layers: [{ reshape: { targetShape: [36, 2] } }, { activation: { activation: 'sigmoid' } }, { flatten: {} }] },
  { name: 'dropout (training, same seeded masks) and dense', layers: [{ flatten: {} }, { dropout: { rate: 0.5 } }, { dense: { ...weighted, units: 5, activation: 'elu' } }] },
];

const conv1d = { ...weighted, filters: 3, kernelSize: 3, strides: 1, padding: 'valid' } as const;
const embedding = { embedding: { inputDim: 12, outputDim: 4, embeddingsInitializer: 'randomUniform' } } as const;
const pool1d = { poolSize: 2, padding: 'valid' } as const;
const rnn = { units: 3, activation: 'tanh', useBias: true, returnSequences: false, kernelInitializer: 'glorotUniform', recurrentInitializer: 'orthogonal', biasInitializer: 'zeros' } as const;

/** Layers on token sequences (10 indices of a 12-entry vocabulary, repeats included): the embedding's gradient is a segment sum. */
const SEQUENCE_LAYERS: { name: string; layers: LayerSpec[] }[] = [
  { name: 'embedding and globalAveragePooling1d', layers: [embedding, { globalAveragePooling1d: {} }] },
  { name: 'conv1d and globalMaxPooling1d', layers: [embedding, { conv1d }, { globalMaxPooling1d: {} }] },
  { name: 'conv1d (same, stride 2) and maxPooling1d', layers: [embedding, { conv1d: { ...conv1d, padding: 'same', strides: 2 } }, { maxPooling1d: pool1d }, { flatten: {} }] },
  { name: 'averagePooling1d', layers: [embedding, { averagePooling1d: { ...pool1d, strides: 1 } }, { flatten: {} }] },
  { name: 'lstm', layers: [embedding, { lstm: { ...rnn, recurrentActivation: 'hardSigmoid' } }] },
  { name: 'gru (every step) and spatialDropout1d', layers: [embedding, { spatialDropout1d: { rate: 0.3 } }, { gru: { ...rnn, recurrentActivation: 'sigmoid', returnSequences: true } }, { globalMaxPooling1d: {} }] },
  { name: 'bidirectional simpleRNN, masking', layers: [embedding, { masking: { maskValue: 0 } }, { bidirectional: { layer: { simpleRNN: rnn }, mergeMode: 'concat' } }] },
];

/** Gradients of a loss with respect to every weight and (for images) to the input, on one backend. */
async function gradients(backend: string, layers: LayerSpec[], tokens = false): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  // Dropout masks come from Math.random: the same sequence on both backends.
  seedrandom('gradients', { global: true });
  const model = createModel([...layers, { dense: { ...weighted, units: 4, activation: 'softmax' } }], tokens ? [10] : [6, 6, 2], 17);
  let s = 5;
  const next = () => (s = (s * 16807) % 2147483647) / 2147483647;
  const x = tokens ? tf.tensor2d(Float32Array.from({ length: 3 * 10 }, () => Math.floor(next() * 12)), [3, 10])
    : tf.tensor4d(Float32Array.from({ length: 3 * 72 }, () => next() * 2 - 1), [3, 6, 6, 2]);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const out = tf.tidy(() => {
    const f = (input: tf.Tensor) => tf.sum(tf.square(model.apply(input, { training: true }) as tf.Tensor)) as tf.Scalar;
    const { grads } = tf.variableGrads(() => f(x), vars);
    // Token indices have no gradient.
    const dx = tokens ? [] : [tf.grad(f)(x)];
    return [...vars.map((v) => grads[v.name]!), ...dx].map((t) => t.dataSync() as Float32Array);
  });
  x.dispose();
  model.dispose();
  return out;
}

describe('the gradient of every layer on wasm', () => {
  it.each([...LAYERS.map((l) => ({ ...l, tokens: false })), ...SEQUENCE_LAYERS.map((l) => ({ ...l, tokens: true }))])('matches cpu: $name', async ({ layers, tokens }) => {
    const want = await gradients('cpu', layers, tokens);
    const got = await gradients('wasm', layers, tokens);
    expect(got.map((g) => g.length)).toEqual(want.map((g) => g.length));
    want.forEach((w, i) => {
      const scale = Math.max(1e-6, ...w.map(Math.abs));
      const worst = Math.max(...w.map((v, j) => Math.abs(v - got[i]![j]!)));
      expect(worst / scale).toBeLessThan(1e-4);
    });
  });
});
