import { resolve } from 'node:path';
import { didYouMean } from '../../core/suggest.js';
import type { TextFileDataSpec } from '../../spec/types.js';
import type { DataSession } from '../session.js';
import { DEFAULT_NA, isMissing, labelOf, rowWhere, type Table } from '../tables/table.js';

/** Documents read from a text file: the text columns joined by a line break, a class index each, and where each row is. */
export interface TextFileRows {
  readonly texts: string[];
  readonly labels: number[];
  readonly where: string[];
}

/** What reading a text-file spec found: the documents, or the spec keys and rows that are wrong. */
export interface TextFileCheck {
  readonly train?: TextFileRows;
  readonly test?: TextFileRows;
  readonly classNames: string[];
  readonly files: readonly Table[];
  readonly dropped: number;
  readonly empty: number;
  readonly keyProblems: { path: (string | number)[]; message: string }[];
  readonly valueProblems: string[];
}

/** Most problem rows listed before "and N more". */
const MAX_LISTED = 10;

/**
 * Reads a text-file spec's file(s) and checks them: the text and target columns exist (with a
 * did-you-mean), text cells are text (not numbers, true/false), targets are present (or their rows
 * dropped with missing: drop). A missing text is an empty document, counted.
 */
export function checkTextFiles(data: TextFileDataSpec, specDir: string, session: DataSession, where: (key: string) => string = (k) => k): TextFileCheck {
  const train = session.tables.read(resolve(specDir, data.path), data.format, where('data.path'));
  const test = data.testPath ? session.tables.read(resolve(specDir, data.testPath), data.format, where('data.testPath')) : undefined;
  const files = [train, ...(test ? [test] : [])];
  const textColumns = typeof data.text === 'string' ? [data.text] : data.text;
  const keyProblems: TextFileCheck['keyProblems'] = [];
  for (const t of files) {
    textColumns.forEach((c, i) => {
      if (t.columns.includes(c)) return;
      const hint = didYouMean(c, t.columns);
      keyProblems.push({ path: typeof data.text === 'string' ? ['data', 'text'] : ['data', 'text', i], message: `${t.file} has no column '${c}'${hint ? `; did you mean '${hint}'?` : ''} (columns: ${t.columns.join(', ')})` });
    });
    if (!t.columns.includes(data.target)) {
      const hint = didYouMean(data.target, t.columns);
      keyProblems.push({ path: ['data', 'target'], message: `${t.file} has no column '${data.target}'${hint ? `; did you mean '${hint}'?` : ''} (columns: ${t.columns.join(', ')})` });
    }
  }
  if (keyProblems.length) return { classNames: [], files, dropped: 0, empty: 0, keyProblems, valueProblems: [] };
  const na = new Set([...DEFAULT_NA, ...(data.naValues ?? [])]);
  const problems: string[] = [];
  let dropped = 0;
  let emptyDocs = 0;
  const read = (t: Table) => {
    const [ti, yi] = [textColumns.map((c) => t.columns.indexOf(c)), t.columns.indexOf(data.target)];
    const rows: { text: string; label: string; where: string }[] = [];
    t.rows.forEach((r, i) => {
      const at = `${t.file} ${rowWhere(t, i)}`;
      if (isMissing(r[yi], na)) {
        if (data.missing === 'drop') dropped++;
        else problems.push(`${at}, column '${data.target}': the target is missing (set data.missing: drop to leave such rows out)`);
        return;
      }
      const parts = ti.map((j, k) => {
        const cell = r[j] ?? null;
        if (cell === null || (typeof cell === 'string' && na.has(cell.trim()))) return '';
        if (typeof cell !== 'string') problems.push(`${at}, column '${textColumns[k]}': ${JSON.stringify(cell)} is ${typeof cell === 'number' ? 'a number' : 'true/false'}, not text`);
        return String(cell);
      });
      const text = parts.join('\n');
      if (text.trim() === '') emptyDocs++;
      rows.push({ text, label: labelOf(r[yi]!), where: at });
    });
    return rows;
  };
  const [trainRows, testRows] = [read(train), test ? read(test) : undefined];
  const classNames = [...new Set([...trainRows, ...(testRows ?? [])].map((r) => r.label))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (!problems.length && classNames.length < 2) problems.push(`${train.file}: column '${data.target}' has ${classNames.length} class${classNames.length === 1 ? ` ('${classNames[0]}')` : 'es'}; a classifier needs two or more`);
  const valueProblems = problems.length > MAX_LISTED ? [...problems.slice(0, MAX_LISTED), `and ${problems.length - MAX_LISTED} more`] : problems;
  const index = new Map(classNames.map((c, i) => [c, i]));
  const rowsOf = (rs: typeof trainRows): TextFileRows => ({ texts: rs.map((r) => r.text), labels: rs.map((r) => index.get(r.label)!), where: rs.map((r) => r.where) });
  return { train: rowsOf(trainRows), ...(testRows ? { test: rowsOf(testRows) } : {}), classNames, files, dropped, empty: emptyDocs, keyProblems, valueProblems };
}
