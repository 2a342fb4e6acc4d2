import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RunnerError } from '../core/errors.js';
import { renderSvg, trialCurvesSpec, type TrialPoint } from '../results/charts.js';
import { esc, STYLE, table } from '../results/html.js';
import { runSuffix } from '../runs/run-dir.js';
import { findRunDirs, readRun, type RunView } from '../runs/reader.js';
import { buildLeaderboard, leaderboardCells } from './leaderboard.js';

/** Whether a folder is a sweep folder (runner sweep wrote its sweep.json). */
export const isSweepDir = (dir: string): boolean => existsSync(join(dir, 'sweep.json')) && !existsSync(join(dir, 'run.json'));

/** The per-epoch series a sweep metric is taken from: best.val_accuracy and final.val_accuracy from val_accuracy; test.* (known only at the end) from val_loss. */
function seriesOf(metric: string, runs: readonly RunView[]): string {
  const field = metric.replace(/^(best|final)\./, '');
  if (!metric.startsWith('test.') && runs.some((r) => r.metrics.some((m) => m[field] !== undefined))) return field;
  return runs.some((r) => r.metrics.some((m) => m['val_loss'] !== undefined)) ? 'val_loss' : 'loss';
}

/**
 * `runner report <sweep folder>`: one self-contained page with the leaderboard and every trial's
 * curve; in an adaptive sweep, the rungs as vertical rules and each trial coloured by where it stopped.
 */
export async function buildSweepReport(dir: string, generatedAt = new Date()): Promise<string> {
  let sweep: { id?: string; scheduler?: { brackets?: number[][] } };
  try {
    sweep = JSON.parse(readFileSync(join(dir, 'sweep.json'), 'utf8')) as typeof sweep;
  } catch (err) {
    throw new RunnerError(`${join(dir, 'sweep.json')} is not valid JSON (${(err as Error).message})`, 2, ['it is written by runner sweep; run the sweep again to rewrite it']);
  }
  const runs = findRunDirs(dir, 1).map(readRun).filter((r) => r.record.sweep?.id === sweep.id);
  const lb = buildLeaderboard(runs);
  const { title, head, rows, failedLines } = leaderboardCells(lb);
  const field = seriesOf(lb.metric, runs);
  const rungs = [...new Set((sweep.scheduler?.brackets ?? []).flat())].sort((a, b) => a - b);
  const group = (r: RunView) => (r.status === 'stopped' ? `stopped at ${r.metrics.length} epoch(s)` : r.status === 'completed' ? `trained to ${r.metrics.length} epoch(s)` : r.status);
  const points: TrialPoint[] = runs.flatMap((r) => r.metrics.filter((m) => m[field] !== undefined).map((m) => ({ run: runSuffix(r.id), group: group(r), epoch: m['epoch']!, value: m[field]! })));
  const chart = trialCurvesSpec(points, field, rungs.slice(0, -1));
  const parts = [
    '<!doctype html><html lang="en"><head><meta charset="utf-8">',
    `<title>runner sweep report: ${esc(lb.sweep)}</title>`,
    `<style>${STYLE}</style></head><body>`,
    `<h1>runner sweep report</h1><p>${esc(title)}; generated ${esc(generatedAt.toISOString())}</p>`,
    '<h2>Leaderboard</h2>', table([head, ...rows], 'metrics'),
    '<h2>Trials by epoch</h2>', chart ? `<div class="chart">${await renderSvg(chart)}</div>` : '<p>No epochs recorded.</p>',
  ];
  if (rungs.length) parts.push(`<p>Dashed lines: the rungs (${rungs.join(', ')} epochs). A trial whose line ends at a rung was stopped there; the best went on from their checkpoints.</p>`);
  if (failedLines.length) parts.push('<h2>Failed trials</h2>', `<ul class="warn">${failedLines.map((l) => `<li>${esc(l)}</li>`).join('')}</ul>`);
  parts.push('</body></html>\n');
  return parts.join('\n');
}
