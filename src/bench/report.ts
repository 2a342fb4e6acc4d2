import { textTable } from '../results/tables.js';

/** One model on one backend and thread count: runner's fit stage against model.fit. */
export interface FitResult {
  readonly model: string;
  readonly backend: string;
  readonly threads: number;
  readonly samples: number;
  readonly epochs: number;
  readonly modelFitSamplesPerSecond: number;
  readonly runnerSamplesPerSecond: number;
  readonly ratio: number;
  readonly tensorsAtEpochEnd: readonly number[];
  readonly epochSeconds: readonly number[];
}

/** A fit row, or why there is none. */
export type FitRow = FitResult | { readonly model: string; readonly backend: string; readonly threads: number; readonly error: string };

const isResult = (r: FitRow): r is FitResult => !('error' in r);
const count = (n: number) => Math.round(n).toLocaleString('en-US');
const mean = (xs: readonly number[]) => (xs.length ? (xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(2) : '-');

/** The benchmark's table: epoch 1 apart from the mean of the later epochs (the steady state). */
export function fitTable(results: readonly FitRow[]): string {
  const rows = [['model', 'backend', 'threads', 'samples', 'model.fit samples/s', 'runner fit samples/s', 'ratio', 'runner epoch 1 s', 'later epochs s (mean)', 'tensors at epoch ends']];
  for (const r of results) {
    if (!isResult(r)) rows.push([r.model, r.backend, String(r.threads), '-', '-', '-', '-', '-', '-', r.error]);
    else rows.push([r.model, r.backend, String(r.threads), String(r.samples), count(r.modelFitSamplesPerSecond), count(r.runnerSamplesPerSecond), `${r.ratio.toFixed(2)}x`, r.epochSeconds[0]!.toFixed(2), mean(r.epochSeconds.slice(1)), r.tensorsAtEpochEnd.join(' ')]);
  }
  return textTable(rows);
}

/** Per model: wasm on `many` threads against 1, in samples/s, for runner and for model.fit. */
export function threadGains(results: readonly FitRow[], many: number): string[] {
  const lines: string[] = [];
  for (const model of ['mlp', 'conv']) {
    const ok = results.filter(isResult).filter((r) => r.model === model && r.backend === 'wasm');
    const [one, most] = [ok.find((r) => r.threads === 1), ok.find((r) => r.threads === many && many > 1)];
    if (one && most) lines.push(`${model} on wasm, ${many} threads against 1: runner fit ${(most.runnerSamplesPerSecond / one.runnerSamplesPerSecond).toFixed(2)}x samples/s, model.fit ${(most.modelFitSamplesPerSecond / one.modelFitSamplesPerSecond).toFixed(2)}x`);
  }
  return lines;
}
