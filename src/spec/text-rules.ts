import { kindOf, TEXT_STEPS, type ExperimentSpec } from './types.js';

type At = (path: (string | number)[], message: string) => void;

/** Layers that take [steps, channels] per example (what an embedding gives). */
const SEQUENCE_LAYERS = new Set(['conv1d', 'maxPooling1d', 'averagePooling1d', 'globalMaxPooling1d', 'globalAveragePooling1d', 'spatialDropout1d', 'lstm', 'gru', 'simpleRNN', 'bidirectional']);
/** Whether a recurrent layer (or the one bidirectional wraps) outputs every step. */
const everyStep = (layer: object): boolean => {
  const [kind, args] = Object.entries(layer)[0] as [string, { returnSequences?: boolean; layer?: object }];
  return kind === 'bidirectional' ? everyStep(args.layer!) : args.returnSequences === true;
};
const RECURRENT = new Set(['lstm', 'gru', 'simpleRNN', 'bidirectional']);
/** Layers that only read images. */
const IMAGE_ONLY = new Set(['conv2d', 'maxPooling2d', 'averagePooling2d', 'globalAveragePooling2d', 'reshape']);
/** Text-only preprocess steps and layers, refused on other data. */
const TEXT_ONLY_STEPS = new Set<string>(TEXT_STEPS);

/**
 * Text specs: the preprocess steps in order (tokenize, vocabulary, then sequence or bagOfWords; a
 * oneHot of the labels anywhere), and the layers followed through the example's rank, so that a
 * conv1d on flat vectors or a model that ends on [steps, units] is refused at its line.
 */
export function textRules(spec: ExperimentSpec, at: At): void {
  const { preprocess, model } = spec;
  const order: string[] = [];
  preprocess.forEach((step, i) => {
    const kind = kindOf(step);
    if ('oneHot' in step && !step.oneHot.columns) return;
    if (!TEXT_ONLY_STEPS.has(kind)) {
      at(['preprocess', i, kind], `${kind} works on numbers; this spec reads text: use tokenize, vocabulary, then sequence or bagOfWords`);
      return;
    }
    const want = ['tokenize', 'vocabulary', 'sequence|bagOfWords'][order.length];
    if (!want || !want.split('|').includes(kind)) {
      at(['preprocess', i, kind], `${kind} is out of place: text is prepared by tokenize, then vocabulary, then one of sequence or bagOfWords`);
    }
    order.push(kind);
    if ('tokenize' in step && step.tokenize.pattern !== undefined) {
      try {
        new RegExp(step.tokenize.pattern, 'gu');
      } catch (err) {
        at(['preprocess', i, 'tokenize', 'pattern'], `not a regular expression: ${(err as Error).message}`);
      }
    }
  });
  const vectors = order.find((k) => k === 'sequence' || k === 'bagOfWords');
  if (!order.includes('tokenize') || !order.includes('vocabulary') || !vectors) {
    at(['preprocess'], 'text needs the preprocess steps tokenize, vocabulary, and sequence (for an embedding) or bagOfWords (for dense layers)');
    return;
  }
  const vocabulary = preprocess.find((s): s is Extract<typeof s, { vocabulary: unknown }> => 'vocabulary' in s)!.vocabulary;
  // Rank of one example: 1 for a sequence of indices or a bag of words, 2 after an embedding.
  let rank = 1;
  model.layers.forEach((layer, i) => {
    const kind = kindOf(layer);
    const path = ['model', 'layers', i, kind];
    if (IMAGE_ONLY.has(kind)) at(path, `${kind} takes images; this spec reads text`);
    if (kind === 'embedding') {
      if (vectors !== 'sequence') at(path, 'embedding takes token indices: use preprocess sequence (bagOfWords gives counts for dense layers)');
      else if (i !== 0) at(path, 'embedding reads the token indices, so it must be the first layer');
      const inputDim = 'embedding' in layer ? layer.embedding.inputDim : undefined;
      const needed = vocabulary.maxTokens + 2;
      if (inputDim !== undefined && inputDim < needed) {
        at([...path, 'inputDim'], `inputDim ${inputDim} cannot hold the vocabulary's indices: up to ${needed} (maxTokens ${vocabulary.maxTokens}, padding and out-of-vocabulary); remove inputDim to take the vocabulary's size, or lower vocabulary.maxTokens to ${inputDim - 2}`);
      }
      rank = 2;
    } else if (SEQUENCE_LAYERS.has(kind)) {
      if (rank !== 2) at(path, `${kind} needs [steps, channels] inputs (an embedding before it, or a recurrent layer with returnSequences: true); here each example is a flat vector`);
      if ((kind as string).startsWith('global') || (RECURRENT.has(kind) && !everyStep(layer))) rank = 1;
    } else if (kind === 'flatten') {
      rank = 1;
    }
  });
  if (rank === 2) {
    at(['model', 'layers', model.layers.length - 1], 'the model ends on [steps, units] per example: add globalMaxPooling1d, globalAveragePooling1d or flatten before the last dense layer');
  }
}

/** Text steps and layers on image or table data. */
export function textOnlyProblems(spec: ExperimentSpec, at: At, reads: string): void {
  spec.preprocess.forEach((step, i) => {
    const kind = kindOf(step);
    if (TEXT_ONLY_STEPS.has(kind)) at(['preprocess', i, kind], `${kind} prepares text; this spec reads ${reads}`);
  });
  spec.model.layers.forEach((layer, i) => {
    const kind = kindOf(layer);
    if (kind === 'embedding') at(['model', 'layers', i, kind], `embedding takes token indices from a text corpus; this spec reads ${reads}`);
  });
}
