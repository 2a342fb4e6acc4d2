import { registerMissingGradients } from '../backend/gradients.js';
import * as tf from '../backend/tf.js';
import { kindOf, type Initializer, type LayerSpec, type Regularizer, type RnnArgs, type RnnLayerSpec, type WeightedLayerArgs } from '../spec/types.js';

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
    case 'orthogonal': return init.orthogonal({ seed });
  }
}

function regularizer(r: Regularizer | undefined): TfRegularizer | undefined {
  return r ? tf.regularizers.l1l2({ l1: r.l1 ?? 0, l2: r.l2 ?? 0 }) : undefined;
}

/** What every layer with a kernel and a bias takes: activation, initializers (kernel seeded `seed`, bias `seed + 1`) and regularizers. */
function weighted(a: WeightedLayerArgs, seed: number) {
  return {
    activation: a.activation, useBias: a.useBias, name: a.name,
    kernelInitializer: initializer(a.kernelInitializer, seed),
    biasInitializer: initializer(a.biasInitializer, seed + 1),
    kernelRegularizer: regularizer(a.kernelRegularizer),
    biasRegularizer: regularizer(a.biasRegularizer),
  };
}

/** A recurrent layer, seeded like the others (kernel, recurrent kernel and bias each their own seed). */
function recurrentLayer(spec: RnnLayerSpec, seed: number, base: object): tf.layers.Layer {
  const kind = kindOf(spec);
  const a = (spec as Record<string, RnnArgs>)[kind]!;
  const args = {
    ...base, units: a.units, activation: a.activation, useBias: a.useBias, returnSequences: a.returnSequences, name: a.name,
    kernelInitializer: initializer(a.kernelInitializer, seed),
    recurrentInitializer: initializer(a.recurrentInitializer, seed + 2),
    biasInitializer: initializer(a.biasInitializer, seed + 1),
    kernelRegularizer: regularizer(a.kernelRegularizer),
    recurrentRegularizer: regularizer(a.recurrentRegularizer),
    biasRegularizer: regularizer(a.biasRegularizer),
  };
  if (kind === 'lstm') return tf.layers.lstm({ ...args, recurrentActivation: a.recurrentActivation });
  if (kind === 'gru') return tf.layers.gru({ ...args, recurrentActivation: a.recurrentActivation });
  return tf.layers.simpleRNN(args);
}

/** What layers learn from the data: the vocabulary's size (an embedding's default inputDim). */
export interface DataFacts { readonly vocabularySize?: number }

/** Builds one layer; the first one also gets the input shape. */
function createLayer(spec: LayerSpec, index: number, seed: number, inputShape: number[] | undefined, facts: DataFacts): tf.layers.Layer {
  const base = inputShape ? { inputShape } : {};
  // Distinct seeds per layer and per weight: two layers of the same shape must not start equal.
  const layerSeed = (seed + 1000 * (index + 1)) >>> 0;
  switch (kindOf(spec)) {
    case 'dense': {
      const a = (spec as Extract<LayerSpec, { dense: unknown }>).dense;
      return tf.layers.dense({ ...base, units: a.units, ...weighted(a, layerSeed) });
    }
    case 'conv2d': {
      const a = (spec as Extract<LayerSpec, { conv2d: unknown }>).conv2d;
      return tf.layers.conv2d({ ...base, filters: a.filters, kernelSize: a.kernelSize, strides: a.strides, padding: a.padding, ...weighted(a, layerSeed) });
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
    case 'embedding': {
      const a = (spec as Extract<LayerSpec, { embedding: unknown }>).embedding;
      const inputDim = a.inputDim ?? facts.vocabularySize;
      if (inputDim === undefined) throw new Error('embedding: inputDim is not given and the data has no vocabulary to take it from');
      return tf.layers.embedding({
        ...(inputShape ? { inputLength: inputShape[0] } : {}), ...base, inputDim, outputDim: a.outputDim, name: a.name,
        embeddingsInitializer: initializer(a.embeddingsInitializer, layerSeed),
        embeddingsRegularizer: regularizer(a.embeddingsRegularizer),
      });
    }
    case 'conv1d': {
      const a = (spec as Extract<LayerSpec, { conv1d: unknown }>).conv1d;
      return tf.layers.conv1d({ ...base, filters: a.filters, kernelSize: a.kernelSize, strides: a.strides, padding: a.padding, ...weighted(a, layerSeed) });
    }
    case 'maxPooling1d': return tf.layers.maxPooling1d({ ...base, ...(spec as Extract<LayerSpec, { maxPooling1d: unknown }>).maxPooling1d });
    case 'averagePooling1d': return tf.layers.averagePooling1d({ ...base, ...(spec as Extract<LayerSpec, { averagePooling1d: unknown }>).averagePooling1d });
    case 'globalMaxPooling1d': return tf.layers.globalMaxPooling1d({ ...base, ...(spec as Extract<LayerSpec, { globalMaxPooling1d: unknown }>).globalMaxPooling1d });
    case 'lstm':
    case 'gru':
    case 'simpleRNN': return recurrentLayer(spec as RnnLayerSpec, layerSeed, base);
    case 'bidirectional': {
      const a = (spec as Extract<LayerSpec, { bidirectional: unknown }>).bidirectional;
      return tf.layers.bidirectional({ ...base, layer: recurrentLayer(a.layer, layerSeed, {}) as Parameters<typeof tf.layers.bidirectional>[0]['layer'], mergeMode: a.mergeMode, name: a.name });
    }
    case 'spatialDropout1d': {
      const a = (spec as Extract<LayerSpec, { spatialDropout1d: unknown }>).spatialDropout1d;
      return tf.layers.spatialDropout1d({ ...(inputShape ? { inputShape } : {}), rate: a.rate, ...(a.name ? { name: a.name } : {}) });
    }
    case 'masking': return tf.layers.masking({ ...base, ...(spec as Extract<LayerSpec, { masking: unknown }>).masking });
    case 'globalAveragePooling1d': return tf.layers.globalAveragePooling1d({ ...base, ...(spec as Extract<LayerSpec, { globalAveragePooling1d: unknown }>).globalAveragePooling1d });
  }
  throw new Error(`unknown layer type '${kindOf(spec)}'`);
}

/** Builds the model the spec's layer list describes, for examples of the given shape. */
export function createModel(layers: readonly LayerSpec[], inputShape: readonly number[], seed: number, facts: DataFacts = {}): tf.Sequential {
  registerMissingGradients();
  const model = tf.sequential();
  layers.forEach((l, i) => model.add(createLayer(l, i, seed, i === 0 ? [...inputShape] : undefined, facts)));
  return model;
}
