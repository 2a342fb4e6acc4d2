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
