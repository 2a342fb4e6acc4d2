import * as tf from '../backend/tf.js';
import { kindOf, type Initializer, type LayerSpec, type Regularizer } from '../spec/types.js';

/** A layer's initializer, seeded so that the same spec and seed give the same weights. */
type TfInitializer = ReturnType<typeof tf.initializers.zeros>;
type TfRegularizer = ReturnType<typeof tf.regularizers.l1l2>;

function initializer(name: Initializer, seed: number): TfInitializer {
  const init = tf.initializers;
  switch (name) {
    case 'zeros': return init.zeros();
    case 'ones': return init.ones();
    case 'glorotUniform': return init.glorotUniform({ seed });
    case 'glorotNormal': return init.glorotNormal({ seed });
    case 'heUniform': return init.heUniform({ seed });
    case 'heNormal': return init.heNormal({ seed });
    case 'leCunUniform': return init.leCunUniform({ seed });
    case 'leCunNormal': return init.leCunNormal({ seed });
    case 'randomUniform': return init.randomUniform({ seed });
    case 'randomNormal': return init.randomNormal({ seed });
    case 'truncatedNormal': return init.truncatedNormal({ seed });
  }
}

function regularizer(r: Regularizer | undefined): TfRegularizer | undefined {
  return r ? tf.regularizers.l1l2({ l1: r.l1 ?? 0, l2: r.l2 ?? 0 }) : undefined;
}

/** Builds one layer; the first one also gets the input shape. */
function createLayer(spec: LayerSpec, index: number, seed: number, inputShape?: number[]): tf.layers.Layer {
  const base = inputShape ? { inputShape } : {};
  // Distinct seeds per layer and per weight: two layers of the same shape must not start equal.
  const layerSeed = (seed + 1000 * (index + 1)) >>> 0;
  switch (kindOf(spec)) {
    case 'dense': {
      const a = (spec as Extract<LayerSpec, { dense: unknown }>).dense;
      return tf.layers.dense({
        ...base, units: a.units, activation: a.activation, useBias: a.useBias, name: a.name,
        kernelInitializer: initializer(a.kernelInitializer, layerSeed),
        biasInitializer: initializer(a.biasInitializer, layerSeed + 1),
        kernelRegularizer: regularizer(a.kernelRegularizer),
        biasRegularizer: regularizer(a.biasRegularizer),
      });
    }
    case 'conv2d': {
      const a = (spec as Extract<LayerSpec, { conv2d: unknown }>).conv2d;
      return tf.layers.conv2d({
        ...base, filters: a.filters, kernelSize: a.kernelSize, strides: a.strides, padding: a.padding, activation: a.activation, useBias: a.useBias, name: a.name,
        kernelInitializer: initializer(a.kernelInitializer, layerSeed),
        biasInitializer: initializer(a.biasInitializer, layerSeed + 1),
        kernelRegularizer: regularizer(a.kernelRegularizer),
        biasRegularizer: regularizer(a.biasRegularizer),
      });
    }
    case 'maxPooling2d': return tf.layers.maxPooling2d({ ...base, ...(spec as Extract<LayerSpec, { maxPooling2d: unknown }>).maxPooling2d });
    case 'averagePooling2d': return tf.layers.averagePooling2d({ ...base, ...(spec as Extract<LayerSpec, { averagePooling2d: unknown }>).averagePooling2d });
    case 'globalAveragePooling2d': return tf.layers.globalAveragePooling2d({ ...base, ...(spec as Extract<LayerSpec, { globalAveragePooling2d: unknown }>).globalAveragePooling2d });
    case 'batchNormalization': return tf.layers.batchNormalization({ ...base, ...(spec as Extract<LayerSpec, { batchNormalization: unknown }>).batchNormalization });
    // No per-layer dropout seed: tfjs would reuse one mask for every batch. Masks come from the run's seeded generator.
    case 'dropout': return tf.layers.dropout({ ...base, ...(spec as Extract<LayerSpec, { dropout: unknown }>).dropout });
    case 'flatten': return tf.layers.flatten({ ...base, ...(spec as Extract<LayerSpec, { flatten: unknown }>).flatten });
    case 'reshape': return tf.layers.reshape({ ...base, ...(spec as Extract<LayerSpec, { reshape: unknown }>).reshape });
    case 'activation': return tf.layers.activation({ ...base, ...(spec as Extract<LayerSpec, { activation: unknown }>).activation });
  }
  throw new Error(`unknown layer type '${kindOf(spec)}'`);
}

/** Builds the model the spec's layer list describes, for examples of the given shape. */
export function createModel(layers: readonly LayerSpec[], inputShape: readonly number[], seed: number): tf.Sequential {
  const model = tf.sequential();
  layers.forEach((l, i) => model.add(createLayer(l, i, seed, i === 0 ? [...inputShape] : undefined)));
  return model;
}
