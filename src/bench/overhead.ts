import { readFileSync, readdirSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

const BIN = fileURLToPath(new URL('../../bin/runner.js', import.meta.url));

/** Wall time of a whole `runner run` (a fresh process) minus its fit and evaluate stages. */
export async function measureOverhead(spec: string, set: readonly string[] = []) {
  const out = mkdtempSync(join(tmpdir(), 'runner-bench-run-'));
  const started = performance.now();
  const r = await execa('node', [BIN, 'run', spec, '--out', out, ...set.flatMap((s) => ['--set', s])], { reject: false });
  const wallSeconds = (performance.now() - started) / 1000;
  if (r.exitCode !== 0) throw new Error(`runner run failed: ${r.stderr.split('\n').pop()}`);
  const run = JSON.parse(readFileSync(join(out, readdirSync(out)[0]!, 'run.json'), 'utf8')) as { stages: { name: string; durationMs: number }[] };
  rmSync(out, { recursive: true, force: true });
  const ms = (name: string) => run.stages.find((s) => s.name === name)?.durationMs ?? 0;
  const fitEvaluateSeconds = (ms('fit') + ms('evaluate')) / 1000;
  const overheadSeconds = wallSeconds - fitEvaluateSeconds;
  const stages = Object.fromEntries(run.stages.map((s) => [s.name, s.durationMs / 1000]));
  return { wallSeconds, fitEvaluateSeconds, overheadSeconds, fraction: overheadSeconds / wallSeconds, stages };
}

/**
 * What the stage cache saves at start-up: three fresh `runner run` processes on an empty cache
 * folder: the first fills every cache, the second recomputes load and normalize (--no-cache),
 * the third takes them from the stage cache. Time to start is spawn to the start of fit.
 */
export async function measureStageCache(spec: string, set: readonly string[] = []) {
  const cache = mkdtempSync(join(tmpdir(), 'runner-bench-cache-'));
  const out = mkdtempSync(join(tmpdir(), 'runner-bench-run-'));
  const once = async (extra: string[]) => {
    // Each run gets a folder of its own: its run folder is the only one there (no reading of its output).
    const own = mkdtempSync(join(out, 'run-'));
    const spawned = Date.now();
    const r = await execa('node', [BIN, 'run', spec, '--out', own, ...set.flatMap((s) => ['--set', s]), '--set', 'train.epochs=1', ...extra], { reject: false, env: { RUNNER_CACHE: cache, RUNNER_OFFLINE: '1' } });
    if (r.exitCode !== 0) throw new Error(`runner run failed: ${r.stderr.split('\n').pop()}`);
    const run = JSON.parse(readFileSync(join(own, readdirSync(own)[0]!, 'run.json'), 'utf8')) as { cached: string[]; stages: { name: string; startedAt: string; durationMs: number }[] };
    const fit = run.stages.find((s) => s.name === 'fit')!;
    const dataMs = run.stages.filter((s) => s.name === 'load' || s.name === 'normalize').reduce((a, s) => a + s.durationMs, 0);
    return { cached: run.cached, secondsToFit: (Date.parse(fit.startedAt) - spawned) / 1000, dataStageSeconds: dataMs / 1000 };
  };
  try {
    const first = await once([]);
    const recomputed = await once(['--no-cache']);
    const cached = await once([]);
    return { first, recomputed, cached, speedup: recomputed.secondsToFit / cached.secondsToFit };
  } finally {
    rmSync(cache, { recursive: true, force: true });
    rmSync(out, { recursive: true, force: true });
  }
}
