import type { Features } from './features.js';
import type { ImageClasses, RawSplit } from './images/types.js';
import type { TablePlan } from './tables/plan.js';
import type { TableRows } from './tables/split.js';

/** What `load` returns for an image dataset: the three splits as bytes. */
export interface ImageLoad extends ImageClasses {
  readonly kind: 'images';
  readonly train: RawSplit;
  readonly val: RawSplit;
  readonly test: RawSplit;
}

/** What `load` returns for a table: the rows of each split (plan's columns only) and what they mean. */
export interface TableLoad {
  readonly kind: 'table';
  readonly train: TableRows;
  readonly val: TableRows;
  readonly test: TableRows;
  readonly plan: TablePlan;
}

/** A text split: documents, their labels (class indices) and, for the corpus, each one's group. */
export interface TextRows {
  readonly texts: readonly string[];
  readonly labels: readonly number[];
  /** The corpus's groups; absent for text read from a file. */
  readonly groups?: readonly string[];
}

/** What `load` returns for a text corpus. */
export interface TextLoad {
  readonly kind: 'text';
  readonly train: TextRows;
  readonly val: TextRows;
  readonly test: TextRows;
  readonly classNames: readonly string[];
}

/** Everything `load` returns. */
export type LoadOutput = ImageLoad | TableLoad | TextLoad;

/** A split ready for training: features (bytes through the preprocessing table) and float32 targets, row-major. */
export interface Split {
  readonly x: Features;
  readonly y: Float32Array;
  readonly count: number;
  /** Each example's group, where the data has one (the corpus group of a text message): evaluate scores each group apart. */
  readonly groups?: readonly string[];
}

/** Everything `normalize` returns. */
export interface Prepared {
  readonly train: Split;
  readonly val: Split;
  readonly test: Split;
  /** Shape of one example, as the model's input sees it. */
  readonly inputShape: readonly number[];
  /** Shape of one target: [numClasses] when one-hot, else [1]. */
  readonly targetShape: readonly number[];
  readonly numClasses: number;
  readonly classNames: readonly string[];
  readonly oneHot: boolean;
  readonly task: 'classification' | 'regression';
  /** What preprocess.json records: the fitted steps (or the table encoder), for predict and the stage cache. */
  readonly fitted: Record<string, unknown>;
}

/** The data a run trained on, as load recorded it: where it came from, how much, and a fingerprint of exactly what was used. */
export interface DataFingerprint {
  readonly dataset: string;
  readonly format?: 'csv' | 'json' | 'jsonl';
  readonly source: string;
  readonly location: string;
  readonly embedded?: boolean;
  readonly note?: string;
  readonly files: readonly { name: string; sha256: string }[];
  readonly available: Readonly<Record<string, number>>;
  readonly dropped?: { readonly train: number; readonly test: number };
  readonly counts: { readonly train: number; readonly validation: number; readonly test: number };
  readonly exampleShape?: readonly number[];
  readonly columns?: { readonly features: readonly unknown[]; readonly target: string; readonly task: string };
  readonly sha256: string;
}
