import type { Document } from 'yaml';
import type { SpecProblem } from './errors.js';
import { formatPath } from './overrides.js';
import { kindOf, type ExperimentSpec } from './spec.js';

type Locate = (offset: number | undefined) => { line?: number; col?: number };

/** Number of classes of the built-in datasets, for checks that can run before any data is read. */
const KNOWN_CLASSES: Record<string, number> = { mnist: 10, 'fashion-mnist': 10 };
/** Shape of one example of the built-in datasets. */
const KNOWN_SHAPES: Record<string, number[]> = { mnist: [28, 28], 'fashion-mnist': [28, 28] };
const IMAGE_LAYERS = ['conv2d', 'maxPooling2d', 'averagePooling2d', 'globalAveragePooling2d'];

/** Rules the schema cannot express: combinations of keys that would fail later, mid-run. */
export function semanticProblems(spec: ExperimentSpec, doc: Document, locate: Locate): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const at = (path: (string | number)[], message: string) => {
    const node = doc.getIn(path, true) as { range?: [number, number, number] } | undefined;
    problems.push({ path: formatPath(path), ...locate(node?.range?.[0]), message });
  };
  const { data, preprocess, compile, train } = spec;

  if (data.dataset === 'idx' && !data.files && !data.path) {
    at(['data', 'dataset'], "dataset 'idx' needs data.files (trainImages, trainLabels, testImages, testLabels) or data.path");
  }
  if (data.dataset !== 'idx' && data.files) {
    at(['data', 'files'], `data.files is only read with dataset: idx (this spec says '${data.dataset}'); use data.path for a folder of ${data.dataset} files`);
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

  const oneHots = preprocess.map((s, i) => [kindOf(s), i] as const).filter(([k]) => k === 'oneHot');
  if (oneHots.length > 1) at(['preprocess', oneHots[1]![1]], 'oneHot appears twice; labels can be one-hot encoded only once');
  if (compile.loss === 'categoricalCrossentropy' && oneHots.length === 0) {
    at(['compile', 'loss'], "categoricalCrossentropy needs one-hot labels: add '- oneHot: {}' to preprocess, or use sparseCategoricalCrossentropy");
  }
  if (compile.loss === 'sparseCategoricalCrossentropy' && oneHots.length > 0) {
    at(['compile', 'loss'], 'sparseCategoricalCrossentropy takes integer labels, but preprocess one-hot encodes them; remove the oneHot step or use categoricalCrossentropy');
  }

  const oneHot = oneHots[0] ? (preprocess[oneHots[0][1]] as { oneHot: { numClasses?: number } }).oneHot : undefined;
  const classes = oneHot?.numClasses ?? KNOWN_CLASSES[data.dataset];
  const layers = spec.model.layers;
  const lastDense = layers.map((l, i) => [l, i] as const).filter(([l]) => kindOf(l) === 'dense').pop();
  if (classes !== undefined && lastDense && compile.loss.includes('ategoricalCrossentropy')) {
    const units = (lastDense[0] as { dense: { units: number } }).dense.units;
    if (units !== classes) {
      at(['model', 'layers', lastDense[1], 'dense', 'units'], `the last dense layer has ${units} units but the data has ${classes} classes; set units: ${classes}`);
    }
  }
  imageLayerInputs(spec, at);
  return problems;
}

/**
 * Follows the example shape through preprocess and the layers that reshape it, and reports an
 * image layer (conv2d, pooling) that would get anything but [height, width, channels].
 */
function imageLayerInputs(spec: ExperimentSpec, at: (path: (string | number)[], message: string) => void): void {
  let shape = KNOWN_SHAPES[spec.data.dataset];
  if (!shape) return;
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
      const [h, w] = KNOWN_SHAPES[spec.data.dataset]!;
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
