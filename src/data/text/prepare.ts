import { RunnerError } from '../../core/errors.js';
import { isTextFile, type ExperimentSpec, type PreprocessStep, type TokenizeArgs } from '../../spec/types.js';
import type { DataLog } from '../kind.js';
import type { Prepared, Split, TextLoad, TextRows } from '../prepared.js';
import { documentFrequencies, fitVocabulary, indexOf, inverseFrequencies, toBag, toSequence, tokenize } from './tokens.js';

type Step<K extends string> = Extract<PreprocessStep, Record<K, unknown>>;
const stepOf = <K extends string>(steps: readonly PreprocessStep[], key: K): Step<K>[K] | undefined => (steps.find((s) => key in s) as Step<K> | undefined)?.[key];

/** What preprocess.json records for text: the fitted tokenizer, vocabulary and vectorizer, for predict and reproduce. */
export interface FittedText {
  readonly tokenize: TokenizeArgs;
  readonly vocabulary: readonly string[];
  readonly sequence?: { length: number; padding: 'pre' | 'post'; truncation: 'pre' | 'post' };
  readonly bagOfWords?: { mode: 'count' | 'binary' | 'tfidf'; idf?: readonly number[] };
  /** Text read from a file: its text columns (joined by a line break) and target, so predict reads rows the same way. */
  readonly columns?: readonly string[];
  readonly target?: string;
}

/** Documents to model inputs with a fitted text pipeline (the same for train, test and predict). */
export function vectorize(fitted: FittedText, texts: readonly string[]): { values: Float32Array; size: number } {
  const index = indexOf(fitted.vocabulary);
  const size = fitted.sequence ? fitted.sequence.length : fitted.vocabulary.length + 2;
  const values = new Float32Array(texts.length * size);
  texts.forEach((text, i) => {
    const tokens = tokenize(text, fitted.tokenize);
    if (fitted.sequence) toSequence(tokens, index, size, fitted.sequence.padding, fitted.sequence.truncation, values, i * size);
    else toBag(tokens, index, fitted.bagOfWords!.mode, fitted.bagOfWords!.idf, values, i * size, size);
  });
  return { values, size };
}

/** Tokenizes, fits the vocabulary (and tf-idf weights) on the training split, and vectorizes every split. */
export function prepareText(data: TextLoad, spec: ExperimentSpec, log: DataLog): Prepared {
  const steps = spec.preprocess;
  const tok = stepOf(steps, 'tokenize')!;
  const vocab = stepOf(steps, 'vocabulary')!;
  const trainTokens = data.train.texts.map((t) => tokenize(t, tok));
  const vocabulary = fitVocabulary(trainTokens, vocab.maxTokens, vocab.minCount);
  if (vocabulary.length === 0) {
    throw new RunnerError(`the vocabulary is empty: no token of the ${data.train.texts.length} training documents occurs ${vocab.minCount} times or more`, 2, ['lower preprocess vocabulary.minCount, or use more training documents']);
  }
  const sequence = stepOf(steps, 'sequence');
  const bag = stepOf(steps, 'bagOfWords');
  const size = vocabulary.length + 2;
  const idf = bag?.mode === 'tfidf' ? inverseFrequencies(documentFrequencies(trainTokens, indexOf(vocabulary), size), trainTokens.length) : undefined;
  const file = isTextFile(spec.data) ? { columns: typeof spec.data.text === 'string' ? [spec.data.text] : spec.data.text, target: spec.data.target } : {};
  const fitted: FittedText = { tokenize: tok, vocabulary, ...(sequence ? { sequence } : { bagOfWords: { mode: bag!.mode, ...(idf ? { idf } : {}) } }), ...file };
  const oneHot = steps.some((s) => 'oneHot' in s);
  const classes = data.classNames.length;
  const make = (rows: TextRows): Split => {
    const y = new Float32Array(rows.labels.length * (oneHot ? classes : 1));
    rows.labels.forEach((label, i) => { if (oneHot) y[i * classes + label] = 1; else y[i] = label; });
    return { x: vectorize(fitted, rows.texts), y, count: rows.texts.length, ...(rows.groups ? { groups: rows.groups } : {}) };
  };
  log.info(`vocabulary: ${vocabulary.length} tokens of the training split's ${trainTokens.reduce((n, doc) => n + doc.length, 0)} token occurrences`);
  const inputShape = [sequence ? sequence.length : size];
  return {
    train: make(data.train), val: make(data.val), test: make(data.test),
    inputShape,
    targetShape: oneHot ? [classes] : [1],
    numClasses: classes,
    classNames: data.classNames,
    oneHot,
    task: 'classification',
    fitted: { text: fitted, inputShape, classNames: data.classNames, vocabularySize: size },
  };
}
