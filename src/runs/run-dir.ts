import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { toJson, writeFileAtomic } from '../core/files.js';
import { basename, dirname, join, resolve } from 'node:path';
import { RunnerError } from '../core/errors.js';

/** The files of a run folder; the only code that knows their names. */
export const RUN_FILES = {
  spec: 'spec.yaml',
  resolved: 'resolved.yaml',
  run: 'run.json',
  metrics: 'metrics.jsonl',
  summary: 'summary.json',
  preprocess: 'preprocess.json',
  /** Text runs: the vocabulary, one token a line. */
  vocabulary: 'vocabulary.txt',
  events: 'events.jsonl',
  /** The trained model in the tfjs layers format: model.json and weights.bin. */
  model: 'model',
  modelJson: 'model/model.json',
  modelWeights: 'model/weights.bin',
  /** fit's last checkpoint: state.json and the array file it names. */
  checkpoint: 'checkpoint',
  /** A completed run's model card (runner card writes it again). */
  card: 'MODEL_CARD.md',
} as const;

/** The random suffix that ends a run id (`20261126-142233-mnist-mlp-3f9c2a` -> `3f9c2a`): short enough to type. */
export const runSuffix = (id: string): string => id.slice(id.lastIndexOf('-') + 1);

/** `YYYYMMDD-HHMMSS` in local time. */
export function timestamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/** A run folder: `<out>/<YYYYMMDD-HHMMSS>-<name>-<6 hex>/`, written to atomically. */
export class RunDir {
  private readonly lines = new Map<string, string[]>();

  private constructor(readonly path: string, readonly id: string) {}

  /** An existing run folder (resume writes into the folder it continues). */
  static open(path: string): RunDir {
    const full = resolve(path);
    return new RunDir(full, basename(full));
  }

  /** Creates a new, unique run folder (mkdir fails if it exists, so parallel runs never share one). */
  static create(outDir: string, name: string, now = new Date()): RunDir {
    const out = resolve(outDir);
    const cannot = (err: unknown) => new RunnerError(`cannot create a run folder in '${outDir}': ${(err as Error).message}`, 2, ['--out must name a folder you can write to']);
    try {
      mkdirSync(out, { recursive: true });
    } catch (err) {
      throw cannot(err);
    }
    for (;;) {
      const id = `${timestamp(now)}-${name}-${randomBytes(3).toString('hex')}`;
      try {
        mkdirSync(join(out, id));
        return new RunDir(join(out, id), id);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw cannot(err);
      }
    }
  }

  file(rel: string): string {
    return join(this.path, rel);
  }

  /** Writes a whole file of the run atomically. */
  write(rel: string, data: string | Uint8Array): void {
    writeFileAtomic(this.file(rel), data);
  }

  writeJson(rel: string, value: unknown): void {
    this.write(rel, `${toJson(value)}\n`);
  }

  /** Reads a JSON-lines file of the run (empty when it does not exist). */
  readJsonl<T>(rel: string): T[] {
    const file = this.file(rel);
    if (!existsSync(file)) return [];
    return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as T);
  }

  /** Replaces a JSON-lines file with these lines; later appends go after them. */
  setJsonl(rel: string, values: readonly unknown[]): void {
    const lines = values.map((v) => JSON.stringify(v));
    this.lines.set(rel, lines);
    this.write(rel, lines.length ? `${lines.join('\n')}\n` : '');
  }

  /** Adds a line to a JSON-lines file, rewriting it atomically so no reader sees half a line. */
  appendJsonl(rel: string, value: unknown): void {
    // A folder opened again (resume) continues the lines already on disk.
    const lines = this.lines.get(rel) ?? this.readJsonl<unknown>(rel).map((v) => JSON.stringify(v));
    lines.push(JSON.stringify(value));
    this.lines.set(rel, lines);
    this.write(rel, `${lines.join('\n')}\n`);
  }
}
