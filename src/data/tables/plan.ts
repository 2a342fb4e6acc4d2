import { resolve } from 'node:path';
import { kindOf, type ExperimentSpec, type TableDataSpec } from '../../spec/types.js';
import { limitsFrom, type Limits } from '../../core/limits.js';
import { didYouMean } from '../../core/suggest.js';
import { quotedPrefix } from '../../core/text.js';
import type { KeyProblem } from '../../spec/locate.js';
import { outputUnitsProblem } from '../../spec/rules.js';
import { DEFAULT_NA, isMissing, labelOf, notANumber, numberOf, overflows, rowWhere, TableReader, type Table, type TableFormat } from './table.js';

/** One input column and how it becomes numbers: as is (numeric) or one indicator per value (categorical). */
export interface FeatureColumn { readonly name: string; readonly kind: 'numeric' | 'categorical' }

/** What the table means for the model: input columns, target, task and classes. */
export interface TablePlan {
  readonly features: readonly FeatureColumn[];
  readonly target: string;
  readonly task: 'classification' | 'regression';
  /** Classification: the target's distinct values over every row read, sorted (numerically when all are numbers). */
  readonly classNames: readonly string[];
  readonly na: ReadonlySet<string>;
}


/** The outcome of checking a spec's table: problems with spec keys, problems with cells, or a plan. */
export interface TableCheck {
  readonly tables: { train: Table; test?: Table };
  readonly keyProblems: KeyProblem[];
  readonly valueProblems: string[];
  readonly plan?: TablePlan;
}

/** Names shown in a message before "and N more": a table of 50,000 columns gets a message, not a page. */
const listed = (names: readonly string[], most = 20): string => {
  // Each name quoted as a short prefix: a file that is no table (a password file, say) is not printed.
  const shown = names.slice(0, most).map((n) => quotedPrefix(n));
  return names.length > most ? `${shown.join(', ')} and ${names.length - most} more` : shown.join(', ');
};

/** Most problems listed per kind before "and N more". */
const MAX_LISTED = 10;

/**
 * A run's (or a sweep's) table checks: the files read once, and each check done once per table
 * and spec (runner run checks the table when it validates the spec and again in load).
 */
export class Tables {
  private readonly reader: TableReader;
  private readonly checks = new Map<string, TableCheck>();

  constructor(limits: Limits = limitsFrom()) {
    this.reader = new TableReader(limits);
  }

  /** One table file, read and parsed once per session (text files use it too). */
  read(file: string, format: TableFormat, key: string): Table {
    return this.reader.read(file, format, key);
  }

  /** Reads the spec's table file(s) and checks every column it names and every value it will use. */
  check(spec: ExperimentSpec, specDir: string, where: (key: string) => string = (k) => k): TableCheck {
    const data = spec.data as TableDataSpec;
    const train = this.reader.read(resolve(specDir, data.path), data.format, where('data.path'));
    const test = data.testPath ? this.reader.read(resolve(specDir, data.testPath), data.format, where('data.testPath')) : undefined;
    const lastLayer = spec.model.layers[spec.model.layers.length - 1];
    const key = JSON.stringify([train.file, train.sha256, test?.file, test?.sha256, spec.data, spec.preprocess, lastLayer, spec.compile.loss]);
    let check = this.checks.get(key);
    if (!check) this.checks.set(key, (check = planTable(spec, train, test)));
    return check;
  }
}

/** The checks and the plan, for tables already read. */
function planTable(spec: ExperimentSpec, train: Table, test: Table | undefined): TableCheck {
  const data = spec.data as TableDataSpec;
  const keyProblems = columnProblems(spec, train, test);
  if (keyProblems.length) return { tables: { train, test }, keyProblems, valueProblems: [] };
  const categorical = new Set(spec.preprocess.flatMap((s) => ('oneHot' in s ? s.oneHot.columns ?? [] : [])));
  const featureNames = data.features ?? train.columns.filter((c) => c !== data.target);
  const features = featureNames.map((name): FeatureColumn => ({ name, kind: categorical.has(name) ? 'categorical' : 'numeric' }));
  const na = new Set([...DEFAULT_NA, ...(data.naValues ?? [])]);
  keyProblems.push(...scalingProblems(spec, categorical));
  const all = test ? [train, test] : [train];
  const valueProblems = all.flatMap((t) => cellProblems(t, features, data, na));
  const labels = all.flatMap((t) => {
    const j = t.columns.indexOf(data.target);
    return t.rows.filter((r) => !isMissing(r[j]!, na)).map((r) => labelOf(r[j]!));
  });
  const classNames = data.task === 'classification' ? sortLabels([...new Set(labels)]) : [];
  const plan: TablePlan = { features, target: data.target, task: data.task, classNames, na };
  // The output units are judged only against a class count that can be right.
  const classes = classProblems(data, classNames, train);
  keyProblems.push(...(classes.length ? classes : outputProblems(spec, classNames, train)));
  return { tables: { train, test }, keyProblems, valueProblems, plan };
}

/** Column names the spec gives that the table does not have (with a did-you-mean), or gives in the wrong place. */
function columnProblems(spec: ExperimentSpec, train: Table, test: Table | undefined): KeyProblem[] {
  const data = spec.data as TableDataSpec;
  const problems: KeyProblem[] = [];
  const known = (path: (string | number)[], name: string, what: string) => {
    if (train.columns.includes(name)) return true;
    const hint = didYouMean(name, train.columns);
    problems.push({ path, message: `${train.file} has no column '${quotedPrefix(name)}'${hint ? `; did you mean '${quotedPrefix(hint)}'?` : ''} (${what}; columns: ${listed(train.columns)})` });
    return false;
  };
  known(['data', 'target'], data.target, 'the target');
  const features = data.features ?? train.columns.filter((c) => c !== data.target);
  data.features?.forEach((name, i) => {
    if (name === data.target) problems.push({ path: ['data', 'features', i], message: `'${name}' is the target column; it cannot also be an input` });
    else known(['data', 'features', i], name, 'a feature');
  });
  if (features.length === 0) problems.push({ path: ['data', 'target'], message: `${train.file} has no column besides the target '${data.target}' to learn from` });
  spec.preprocess.forEach((step, i) => {
    const kind = kindOf(step);
    const columns = (step as Record<string, { columns?: string[] }>)[kind]!.columns ?? [];
    columns.forEach((name, j) => {
      if (!features.includes(name)) {
        const hint = didYouMean(name, features);
        problems.push({ path: ['preprocess', i, kind, 'columns', j], message: `'${name}' is not a feature column${hint ? `; did you mean '${hint}'?` : ''} (features: ${listed(features)})` });
      }
    });
  });
  if (test) {
    for (const name of [...features, data.target].filter((c) => train.columns.includes(c) && !test.columns.includes(c))) {
      problems.push({ path: ['data', 'testPath'], message: `${test.file} has no column '${name}', which ${train.file} has and the model uses` });
    }
  }
  return problems;
}

/** Scaling steps that name a categorical column (one-hot indicators are not rescaled). */
function scalingProblems(spec: ExperimentSpec, categorical: ReadonlySet<string>): KeyProblem[] {
  return spec.preprocess.flatMap((step, i) => {
    const kind = kindOf(step);
    if (kind === 'oneHot') return [];
    const columns = (step as Record<string, { columns?: string[] }>)[kind]!.columns ?? [];
    return columns.flatMap((name, j) => (categorical.has(name) ? [{ path: ['preprocess', i, kind, 'columns', j], message: `'${name}' is one-hot encoded (categorical); ${kind} applies to numeric columns only` }] : []));
  });
}

/** Cells the run would choke on: text in a numeric column, and missing values when data.missing is error. */
function cellProblems(t: Table, features: readonly FeatureColumn[], data: TableDataSpec, na: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  const columns = [...features, { name: data.target, kind: data.task === 'regression' ? 'numeric' : 'categorical' } as const];
  for (const col of columns) {
    const j = t.columns.indexOf(col.name);
    const missing: number[] = [];
    const text: number[] = [];
    const huge: number[] = [];
    t.rows.forEach((r, i) => {
      if (isMissing(r[j]!, na)) missing.push(i);
      else if (col.kind === 'numeric' && overflows(r[j]!)) huge.push(i);
      else if (col.kind === 'numeric' && numberOf(r[j]!) === undefined) text.push(i);
    });
    for (const i of huge.slice(0, MAX_LISTED)) problems.push(`${rowWhere(t, i)}, column '${col.name}': ${notANumber(t.rows[i]![j]!)}`);
    if (huge.length > MAX_LISTED) problems.push(`column '${col.name}': and ${huge.length - MAX_LISTED} more values beyond the range of a 64-bit float`);
    const role = col.name === data.target ? 'the target' : 'a feature';
    if (missing.length && (data.missing === 'error')) {
      problems.push(`column '${col.name}' (${role}) has ${missing.length} missing value${missing.length === 1 ? '' : 's'} (first at ${rowWhere(t, missing[0]!)}); set data.missing to drop or fill${col.name === data.target ? '' : ', or leave the column out of data.features'}`);
    }
    const present = t.rows.length - missing.length;
    if (text.length && text.length > present / 2) {
      const fix = col.name === data.target ? 'regression needs a numeric target; set data.task: classification to predict categories' : "to use it as a category, list it in a preprocess step '- oneHot: { columns: [...] }', or leave it out of data.features";
      problems.push(`column '${col.name}' holds text ('${labelOf(t.rows[text[0]!]![j]!)}' at ${rowWhere(t, text[0]!)}): ${fix}`);
    } else {
      for (const i of text.slice(0, MAX_LISTED)) problems.push(`${rowWhere(t, i)}, column '${col.name}': '${labelOf(t.rows[i]![j]!)}' is not a number`);
      if (text.length > MAX_LISTED) problems.push(`column '${col.name}': and ${text.length - MAX_LISTED} more values that are not numbers`);
    }
  }
  return problems.map((p) => `${t.file} ${p}`);
}

/** A classifier needs two classes at least: a target with none (every value missing) or one has nothing to tell apart. */
function classProblems(data: TableDataSpec, classNames: readonly string[], train: Table): KeyProblem[] {
  if (data.task !== 'classification' || classNames.length >= 2) return [];
  const found = classNames.length === 0 ? 'no values at all (every one is missing)' : `only one value, '${classNames[0]}'`;
  return [{ path: ['data', 'target'], message: `'${data.target}' in ${train.file} has ${found}: a classifier needs at least two classes` }];
}

/** The output layer against the classes the table's target has (regression is checked by the spec rules). */
function outputProblems(spec: ExperimentSpec, classNames: readonly string[], train: Table): KeyProblem[] {
  const data = spec.data as TableDataSpec;
  if (data.task === 'regression') return [];
  const oneHot = spec.preprocess.find((s) => 'oneHot' in s && !s.oneHot.columns) as { oneHot: { numClasses?: number } } | undefined;
  const classes = oneHot?.oneHot.numClasses ?? classNames.length;
  const numeric = classNames.every((c) => numberOf(c) !== undefined);
  const hint = numeric && classNames.length > 20 ? `; '${data.target}' looks like a number: for regression set data.task: regression` : undefined;
  const problem = outputUnitsProblem(spec, classes, `'${data.target}' in ${train.file}`, hint);
  return problem ? [problem] : [];
}

/** Class labels in a stable order: numerically when every label is a number, else by code point. */
function sortLabels(labels: string[]): string[] {
  if (labels.every((l) => numberOf(l) !== undefined)) return labels.sort((a, b) => Number(a) - Number(b));
  return labels.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
