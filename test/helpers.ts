import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
