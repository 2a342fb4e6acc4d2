import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { createRequire } from 'node:module';
import type { parse as Parse } from 'csv-parse/sync';
import { RunnerError } from '../../core/errors.js';
import { checkReadable, type Limits } from '../../core/limits.js';

/** One value of a table as read: text from CSV; number, text, true/false or null from JSON. */
export type Cell = number | string | boolean | null;

/** A table as read from a CSV or JSON file, before any typing: a header and rows of cells. */
export interface Table {
  /** The path as the spec gives it (resolved against the spec's folder), for messages. */
  readonly file: string;
  readonly columns: readonly string[];
  readonly rows: readonly (readonly Cell[])[];
  /** Where row `i` is in the file, for messages: 'line 18' (CSV) or 'record 17' (JSON). */
  readonly lines: readonly number[];
  readonly format: TableFormat;
  readonly sha256: string;
}

/** The file formats tables and text files are read from: CSV, a JSON array of records, or JSON Lines (one record a line). */
export type TableFormat = 'csv' | 'json' | 'jsonl';

/** Where row `i` of a table is, in the words a person can look up in the file. */
export const rowWhere = (t: Table, i: number): string => (t.format === 'json' ? `record ${t.lines[i]}` : `line ${t.lines[i]}`);

/** Cell texts that mean "missing", as pandas reads them by default. */
export const DEFAULT_NA = ['', 'NA', 'N/A', 'n/a', 'NaN', 'nan', 'null', 'NULL', '#N/A', 'None'];

/** A cell that holds no value: null, or text that is one of the missing markers. */
export function isMissing(cell: Cell | undefined, na: ReadonlySet<string>): boolean {
  return cell === null || cell === undefined || (typeof cell === 'string' && na.has(cell.trim()));
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** The largest float32: the model computes in float32, so a larger value would become Infinity. */
const FLOAT32_MAX = 3.4028234663852886e38;

/** A number as written, or undefined for text that is not one. */
const written = (cell: Cell): number | undefined => (typeof cell === 'number' ? cell : typeof cell === 'string' && NUMBER.test(cell.trim()) ? Number(cell.trim()) : undefined);

/** The number a cell holds, or undefined when it holds text (or true/false), or a number no float32 holds. */
export function numberOf(cell: Cell): number | undefined {
  const n = written(cell);
  return n !== undefined && Math.abs(n) <= FLOAT32_MAX ? n : undefined;
}

/** A cell written as a number too large for float32 (`1e400`, `1e39`): as Infinity it would poison every statistic. */
export const overflows = (cell: Cell): boolean => {
  const n = written(cell);
  return n !== undefined && !(Math.abs(n) <= FLOAT32_MAX);
};

/** Why a cell of a numeric column is not a number: out of range, or not a number at all. */
export const notANumber = (cell: Cell): string => (overflows(cell) ? `'${labelOf(cell)}' is beyond the range of a 32-bit float, which the model computes in (it would be Infinity)` : `'${labelOf(cell)}' is not a number`);

/** A cell as a category label: text as is, numbers and booleans as their text. */
export const labelOf = (cell: Cell): string => (typeof cell === 'string' ? cell.trim() : String(cell));

/** A run's table reads: each file version is read and parsed once (validation and load both ask). */
export class TableReader {
  private readonly tables = new Map<string, Table>();

  constructor(private readonly limits: Limits) {}

  read(file: string, format: TableFormat, key: string): Table {
    const { mtimeMs, size } = checkReadable(file, `${key}: table file`, this.limits);
    const id = `${format}:${file}:${mtimeMs}:${size}`;
    let table = this.tables.get(id);
    if (!table) this.tables.set(id, (table = parseTableFile(file, format, key)));
    return table;
  }
}

/** Reads a CSV or JSON table (a regular file within the limits); throws a RunnerError (exit 2) naming the file and line when it is malformed. */
export function readTable(file: string, format: TableFormat, key: string, limits: Limits): Table {
  checkReadable(file, `${key}: table file`, limits);
  return parseTableFile(file, format, key);
}

/** Reads and parses a table file already checked by checkReadable. */
function parseTableFile(file: string, format: TableFormat, key: string): Table {
  const bytes = readFileSync(file);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  // Messages name the file as the person would type it from here.
  const shown = relative(process.cwd(), file) || file;
  let table: Table;
  try {
    const text = utf8(shown, bytes);
    table = format === 'csv' ? parseCsv(shown, text, sha256) : format === 'json' ? parseJson(shown, text, sha256) : parseJsonLines(shown, text, sha256);
  } catch (err) {
    if (!(err instanceof RunnerError)) throw err;
    throw new RunnerError(err.message, err.exitCode, [...err.details, `(the table ${key} names)`]);
  }
  if (table.rows.length === 0) throw new RunnerError(`${shown} has no rows`, 2, [`(the table ${key} names)`]);
  return table;
}

/** The file's text; bytes that are not UTF-8 are an error naming the line they are on (a Latin-1 export, say). */
function utf8(file: string, bytes: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    // Find the first bad byte: decode growing prefixes of lines until one fails.
    let line = 1;
    let start = 0;
    for (let i = 0; i <= bytes.length; i++) {
      if (i === bytes.length || bytes[i] === 0x0a) {
        try {
          new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(start, i));
        } catch {
          break;
        }
        line++;
        start = i + 1;
      }
    }
    throw new RunnerError(`${file} line ${line}: bytes that are not UTF-8 text; save the file as UTF-8 (it may be Latin-1 or Windows-1252)`);
  }
}

/** Most ragged rows listed before "and N more". */
const MAX_LISTED = 10;

/** csv-parse, loaded when a CSV is read (importing it costs 30 ms at every start otherwise). */
const csvParse = (): typeof Parse => (createRequire(import.meta.url)('csv-parse/sync') as { parse: typeof Parse }).parse;

function parseCsv(file: string, text: string, sha256: string): Table {
  const parse = csvParse();
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, { bom: true, relax_column_count: true, skip_empty_lines: true, info: true }) as unknown as typeof records;
  } catch (err) {
    const e = err as Error & { lines?: number };
    throw new RunnerError(`${file} is not valid CSV${e.lines ? ` (line ${e.lines})` : ''}: ${e.message.replace(/^Invalid \w+: /, '')}`);
  }
  const [header, ...body] = records;
  if (!header) throw new RunnerError(`${file} is empty: expected a header row with the column names`);
  const columns = header.record.map((c) => c.trim());
  // A set, not indexOf per column: a header of 50,000 columns is checked in milliseconds.
  const seen = new Set<string>();
  const duplicate = columns.find((c) => seen.has(c) || !seen.add(c));
  if (duplicate !== undefined) throw new RunnerError(`${file} line 1: column '${duplicate}' appears twice in the header`);
  const ragged = body.filter((r) => r.record.length !== columns.length);
  if (ragged.length) {
    const listed = ragged.slice(0, MAX_LISTED).map((r) => `line ${r.info.lines}: ${r.record.length} fields, expected ${columns.length}`);
    if (ragged.length > MAX_LISTED) listed.push(`and ${ragged.length - MAX_LISTED} more`);
    throw new RunnerError(`${file} has ${ragged.length} ragged row${ragged.length === 1 ? '' : 's'}: the header names ${columns.length} columns`, 2, listed);
  }
  return { file, columns, rows: body.map((r) => r.record), lines: body.map((r) => r.info.lines), format: 'csv', sha256 };
}

function parseJson(file: string, text: string, sha256: string): Table {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new RunnerError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(data)) throw new RunnerError(`${file}: expected a JSON array of objects (one per row), got ${typeof data === 'object' && data !== null ? 'an object' : typeof data}`);
  return recordsTable(file, data, data.map((_, i) => i + 1), 'json', sha256);
}

/** JSON Lines: one record a line; blank lines are skipped. */
function parseJsonLines(file: string, text: string, sha256: string): Table {
  const records: unknown[] = [];
  const lines: number[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      records.push(JSON.parse(line));
    } catch (err) {
      throw new RunnerError(`${file} line ${i + 1} is not valid JSON: ${(err as Error).message}`);
    }
    lines.push(i + 1);
  });
  return recordsTable(file, records, lines, 'jsonl', sha256);
}

/** Records (objects of column values) as a table; `lines` says where each is, for messages. */
function recordsTable(file: string, records: readonly unknown[], lines: readonly number[], format: 'json' | 'jsonl', sha256: string): Table {
  const columns: string[] = [];
  const seen = new Set<string>();
  const where = (i: number) => `${file} ${format === 'json' ? 'record' : 'line'} ${lines[i]}`;
  records.forEach((rec: unknown, i) => {
    if (typeof rec !== 'object' || rec === null || Array.isArray(rec)) {
      throw new RunnerError(`${where(i)}: expected an object of column values, got ${Array.isArray(rec) ? 'an array' : JSON.stringify(rec)}`);
    }
    for (const [k, v] of Object.entries(rec)) {
      if (typeof v === 'object' && v !== null) throw new RunnerError(`${where(i)}, column '${k}': expected a number, text, true/false or null, got ${Array.isArray(v) ? 'an array' : 'an object'}`);
      if (!seen.has(k)) columns.push(k);
      seen.add(k);
    }
  });
  // A key a record lacks is a missing value, as pandas reads records.
  const rows = (records as Record<string, Cell>[]).map((rec) => columns.map((c) => rec[c] ?? null));
  return { file, columns, rows, lines: [...lines], format, sha256 };
}
