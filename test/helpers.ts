import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { pino } from 'pino';
import { loadSpec } from '../src/spec/load.js';
import { parseOverride } from '../src/spec/overrides.js';
import { RunDir } from '../src/runs/run-dir.js';
import { DataSession } from '../src/data/session.js';
import type { Interrupt } from '../src/pipeline/run.js';
import { silentProgress, type StageContext } from '../src/stages/stage.js';

export const FIXTURES = new URL('./fixtures/', import.meta.url).pathname;

/** A stage context for the tiny fixture spec, with a fresh run folder and a silent log. */
export function tinyContext(set: string[] = []): StageContext & { notes: Record<string, unknown> } {
  const { spec } = loadSpec(join(FIXTURES, 'tiny-mlp.yaml'), set.map(parseOverride));
  const notes: Record<string, unknown> = {};
  return {
    spec,
    specDir: FIXTURES,
    runDir: RunDir.create(mkdtempSync(join(tmpdir(), 'runner-stage-')), spec.name),
    log: pino({ level: 'silent' }),
    signal: new AbortController().signal,
    seed: spec.seed,
    progress: silentProgress,
    data: new DataSession(),
    annotate: (k, v) => void (notes[k] = v),
    notes,
  };
}

/** The run folder a `runner run` (or resume, reproduce) printed on its last line, resolved against `cwd`. */
export function runDirOf(stdout: string, cwd: string): string {
  const m = /run: (\S+) \(status/.exec(stdout);
  if (!m) throw new Error(`no run folder in: ${stdout}`);
  return join(cwd, m[1]!);
}

export const readJson = (file: string): unknown => JSON.parse(readFileSync(file, 'utf8'));
export const readJsonl = (file: string): Record<string, number>[] =>
  readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);

/** An interrupt driven by a test's own signal (what Ctrl-C is to the terminal). */
export const interruptOn = (signal: AbortSignal): Interrupt => ({ signal, beforeExit() {} });

/** Calls `fn` with each whole line a child process writes to a stream: never a chunk cut mid-line. */
export function onLine(stream: Readable | null | undefined, fn: (line: string) => void): void {
  if (!stream) throw new Error('the child has no such stream to read');
  createInterface({ input: stream, crlfDelay: Infinity }).on('line', fn);
}

/** The values of a progress line (`epoch  2/5  loss 0.41  val_loss 0.38  0.3s`): epoch, epochs and each named value. */
export function epochLineValues(line: string): Record<string, number> | undefined {
  const m = /^epoch +(\d+)\/(\d+) +(.*)$/.exec(line.trim());
  if (!m) return undefined;
  const values: Record<string, number> = { epoch: Number(m[1]), epochs: Number(m[2]) };
  for (const [, k, v] of m[3]!.matchAll(/([a-z_]+) (-?[\d.e+-]+)/gi)) values[k!] = Number(v);
  return values;
}
