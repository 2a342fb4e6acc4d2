import type { Document } from 'yaml';
import type { SpecProblem } from '../core/errors.js';
import { locateProblem, type KeyProblem, type Locate } from './locate.js';
import { textOnlyProblems, textRules } from './text-rules.js';
import { isTable, isText, kindOf, type ExperimentSpec } from './types.js';

/** Number of classes of the built-in datasets, for checks that can run before any data is read. */
const KNOWN_CLASSES: Record<string, number> = { mnist: 10, 'fashion-mnist': 10, 'spam-assassin': 2 };
/** Shape of one example of the built-in datasets. */
const KNOWN_SHAPES: Record<string, number[]> = { mnist: [28, 28], 'fashion-mnist': [28, 28] };
const IMAGE_LAYERS = ['conv2d', 'maxPooling2d', 'averagePooling2d', 'globalAveragePooling2d'];

/** Losses that score each class with an output of its own: the last layer needs one unit per class. */
const PER_CLASS_LOSSES: ReadonlySet<string> = new Set(['categoricalCrossentropy', 'sparseCategoricalCrossentropy']);

/**
 * The last dense layer's units against the classes the data has (`source`: where they were
 * counted), for losses that score each class; the one check of it, wherever the count is known:
 * at validation for named datasets and tables, after load for IDX files.
 */
export function outputUnitsProblem(spec: ExperimentSpec, classes: number, source: string, hint = `; set units: ${classes}`): KeyProblem | undefined {
  if (!PER_CLASS_LOSSES.has(spec.compile.loss)) return undefined;
  const last = spec.model.layers.map((l, i) => [l, i] as const).filter(([l]) => 'dense' in l).pop();
  if (!last) return undefined;
  const units = (last[0] as { dense: { units: number } }).dense.units;
  if (units === classes) return undefined;
  return { path: ['model', 'layers', last[1], 'dense', 'units'], message: `the last dense layer has ${units} units but ${source} has ${classes} classes${hint}` };
}

/** Rules the schema cannot express: combinations of keys that would fail later, mid-run. */
export function semanticProblems(spec: ExperimentSpec, doc: Document, locate: Locate): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const at = (path: (string | number)[], message: string) => problems.push(locateProblem(doc, locate, path, message));
  const { data, preprocess, compile, train } = spec;

  if (isTable(data)) {
    tableRules(spec, at);
    textOnlyProblems(spec, at, `a table (${data.path})`);
  } else if (isText(data)) {
    textRules(spec, at);
  } else {
    textOnlyProblems(spec, at, `images (data.dataset: ${data.dataset})`);
    if (data.dataset === 'idx' && !data.files && !data.path) {
      at(['data', 'dataset'], "dataset 'idx' needs data.files (trainImages, trainLabels, testImages, testLabels) or data.path");
    }
    if (data.dataset !== 'idx' && data.files) {
      at(['data', 'files'], `data.files is only read with dataset: idx (this spec says '${data.dataset}'); use data.path for a folder of ${data.dataset} files`);
    }
    preprocess.forEach((step, i) => {
      const kind = kindOf(step);
      if ((step as Record<string, { columns?: string[] }>)[kind]!.columns) at(['preprocess', i, kind, 'columns'], `columns name table columns; this spec reads images (data.dataset: ${data.dataset})`);
    });
  }
  const monitor = train.earlyStopping?.monitor;
  if (monitor?.startsWith('val_') && data.validationSplit === 0) {
    at(['train', 'earlyStopping', 'monitor'], `monitors '${monitor}' but there is no validation data; set data.validationSplit (e.g. 0.1) or monitor 'loss'`);
  }
  const monitored = monitor?.replace(/^val_/, '');
  if (monitored && monitored !== 'loss' && !(compile.metrics as string[]).includes(monitored)) {
    at(['train', 'earlyStopping', 'monitor'], `monitors '${monitor}' but compile.metrics does not include ${monitored}`);
  }

  if ('rmsprop' in compile.optimizer && compile.optimizer.rmsprop.centered) {
    // tfjs computes sqrt(ms - (mg^2 + epsilon)): negative, so NaN, for any weight whose gradient is 0 (e.g. a dead relu unit).
    at(['compile', 'optimizer', 'rmsprop', 'centered'], "centered RMSProp is not supported: tfjs's version turns zero gradients into NaN; use centered: false");
  }

  // oneHot with columns encodes table features; without, the labels.
  const oneHots = preprocess.map((s, i) => [s, i] as const).filter(([s]) => 'oneHot' in s && !s.oneHot.columns).map(([s, i]) => [kindOf(s), i] as const);
  if (oneHots.length > 1) at(['preprocess', oneHots[1]![1]], 'oneHot appears twice; labels can be one-hot encoded only once');
  const regression = isTable(data) && data.task === 'regression';
  if (compile.loss === 'categoricalCrossentropy' && oneHots.length === 0 && !regression) {
    at(['compile', 'loss'], "categoricalCrossentropy needs one-hot labels: add '- oneHot: {}' to preprocess, or use sparseCategoricalCrossentropy");
  }
  if (compile.loss === 'sparseCategoricalCrossentropy' && oneHots.length > 0) {
    at(['compile', 'loss'], 'sparseCategoricalCrossentropy takes integer labels, but preprocess one-hot encodes them; remove the oneHot step or use categoricalCrossentropy');
  }

  const oneHot = oneHots[0] ? (preprocess[oneHots[0][1]] as { oneHot: { numClasses?: number } }).oneHot : undefined;
  const classes = oneHot?.numClasses ?? (data.dataset ? KNOWN_CLASSES[data.dataset] : undefined);
  const units = classes === undefined ? undefined : outputUnitsProblem(spec, classes, 'the data');
  if (units) at([...units.path], units.message);
  imageLayerInputs(spec, at);
  return problems;
}

/**
 * Follows the example shape through preprocess and the layers that reshape it, and reports an
 * image layer (conv2d, pooling) that would get anything but [height, width, channels].
 */
function imageLayerInputs(spec: ExperimentSpec, at: (path: (string | number)[], message: string) => void): void {
  if (!spec.data.dataset) return;
  let shape: number[] | undefined = KNOWN_SHAPES[spec.data.dataset];
  if (!shape) return;
  const [h, w] = shape;
  let flattenedAt: number | undefined;
  spec.preprocess.forEach((step, i) => {
    if ('flatten' in step) {
      shape = [shape!.reduce((a, b) => a * b, 1)];
      flattenedAt = i;
    }
    if ('reshape' in step) shape = [...step.reshape.targetShape];
  });
  for (const [i, layer] of spec.model.layers.entries()) {
    const kind = kindOf(layer);
    if (IMAGE_LAYERS.includes(kind) && shape.length !== 3) {
      const fix = flattenedAt !== undefined
        ? `preprocess[${flattenedAt}] flattens the images: replace '- flatten: {}' with '- reshape: { targetShape: [${h}, ${w}, 1] }'`
        : `add '- reshape: { targetShape: [${h}, ${w}, 1] }' to preprocess`;
      at(['model', 'layers', i, kind], `${kind} needs images of shape [height, width, channels], but gets [${shape.join(', ')}]; ${fix}`);
      return;
    }
    if (kind === 'flatten' || kind === 'dense' || kind === 'globalAveragePooling2d') return; // shapes past here depend on the layer arguments
    if (kind === 'reshape') shape = [...(layer as { reshape: { targetShape: number[] } }).reshape.targetShape];
    if (IMAGE_LAYERS.includes(kind)) return;
  }
}

/** Losses that compare a predicted number with a true one (the rest score classes). */
const REGRESSION_LOSSES = ['meanSquaredError', 'meanAbsoluteError', 'meanAbsolutePercentageError', 'meanSquaredLogarithmicError', 'logcosh', 'poisson', 'cosineProximity'];

/** Tables are vectors of columns: no image steps or layers; a regression predicts one number with a regression loss. */
function tableRules(spec: ExperimentSpec, at: (path: (string | number)[], message: string) => void): void {
  const { preprocess, compile, model } = spec;
  preprocess.forEach((step, i) => {
    const kind = kindOf(step);
    if (kind === 'flatten' || kind === 'reshape') at(['preprocess', i, kind], `${kind} reshapes images; a table row is already a vector of its columns`);
    if ('standardize' in step && step.standardize.per === 'global') at(['preprocess', i, 'standardize', 'per'], "tables are standardized per column: remove per: global (or set per: feature)");
  });
  model.layers.forEach((layer, i) => {
    const kind = kindOf(layer);
    if (IMAGE_LAYERS.includes(kind)) at(['model', 'layers', i, kind], `${kind} needs images; a table row is a vector of its columns (use dense layers)`);
  });
  if ((spec.data as { task: string }).task !== 'regression') return;
  if (!REGRESSION_LOSSES.includes(compile.loss)) {
    at(['compile', 'loss'], `${compile.loss} scores classes, but data.task is regression; use meanSquaredError or meanAbsoluteError`);
  }
  compile.metrics.forEach((m, i) => {
    if (m !== 'mae' && m !== 'mse') at(['compile', 'metrics', i], `${m} scores classes, but data.task is regression; use mae or mse`);
  });
  preprocess.forEach((step, i) => {
    if ('oneHot' in step && !step.oneHot.columns) at(['preprocess', i, 'oneHot'], 'a regression target is a number: one-hot labels are for classification (to encode a feature column, give oneHot columns)');
  });
  const last = model.layers.length - 1;
  const lastLayer = model.layers[last]!;
  if ('dense' in lastLayer && lastLayer.dense.units !== 1) {
    at(['model', 'layers', last, 'dense', 'units'], `a regression predicts one number: set the last dense layer's units to 1 (it has ${lastLayer.dense.units})`);
  }
}
