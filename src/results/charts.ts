import { runSuffix } from '../runs/run-dir.js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { RunView } from '../runs/reader.js';


/** Renders a Vega-Lite spec to an SVG string in Node (no browser, no canvas). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Train (dashed) and validation (solid) curves of one metric for all runs, coloured by run. */
export function curvesSpec(runs: readonly RunView[], metric: 'loss' | 'accuracy'): TopLevelSpec | undefined {
  const values = runs.flatMap((r) =>
    r.metrics.flatMap((m) => [
      ...(m[metric] !== undefined ? [{ run: runSuffix(r.id), epoch: m['epoch'], split: 'train', value: m[metric] }] : []),
      ...(m[`val_${metric}`] !== undefined ? [{ run: runSuffix(r.id), epoch: m['epoch'], split: 'validation', value: m[`val_${metric}`] }] : []),
    ]),
  );
  if (values.length === 0) return undefined;
  const epochs = Math.max(...values.map((v) => v.epoch!));
  // Whole epochs only: explicit ticks for short runs, a minimum step for long ones.
  const axis = epochs <= 20 ? { values: Array.from({ length: epochs }, (_, i) => i + 1), format: 'd' } : { tickMinStep: 1, format: 'd' };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: metric === 'loss' ? 'Loss' : 'Accuracy',
    width: 420,
    height: 260,
    data: { values },
    mark: { type: 'line', strokeWidth: 2 },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', axis, scale: { domain: [1, Math.max(2, epochs)] }, title: 'epoch' },
      y: { field: 'value', type: 'quantitative', scale: { zero: false }, title: metric },
      color: { field: 'run', type: 'nominal', title: 'run' },
      strokeDash: { field: 'split', type: 'nominal', title: 'split', sort: ['validation', 'train'] },
      detail: { field: 'split' },
    },
  };
}

/** One point of a sweep trial's curve: its run, the group it is coloured by, the epoch and the value. */
export interface TrialPoint { readonly run: string; readonly group: string; readonly epoch: number; readonly value: number }

/**
 * A sweep's trials on one chart: each trial's per-epoch value as a line coloured by its group
 * (where it stopped), a dot where it ended, and a vertical rule at each rung of an adaptive sweep.
 */
export function trialCurvesSpec(points: readonly TrialPoint[], field: string, rungs: readonly number[] = []): TopLevelSpec | undefined {
  if (points.length === 0) return undefined;
  const last = new Map<string, TrialPoint>();
  for (const p of points) if ((last.get(p.run)?.epoch ?? 0) < p.epoch) last.set(p.run, p);
  const epochs = Math.max(...points.map((p) => p.epoch));
  const x = { field: 'epoch', type: 'quantitative' as const, scale: { domain: [1, Math.max(2, epochs)] }, axis: { tickMinStep: 1, format: 'd' }, title: 'epoch' };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: `${field} of every trial by epoch`,
    width: 620,
    height: 320,
    layer: [
      ...(rungs.length ? [{ data: { values: rungs.map((epoch) => ({ epoch })) }, mark: { type: 'rule' as const, strokeDash: [4, 4], color: '#999' }, encoding: { x } }] : []),
      {
        data: { values: [...points] },
        mark: { type: 'line', strokeWidth: 1.5, opacity: 0.8 },
        encoding: { x, y: { field: 'value', type: 'quantitative', scale: { zero: false }, title: field }, color: { field: 'group', type: 'nominal', title: 'trial' }, detail: { field: 'run' } },
      },
      {
        data: { values: [...last.values()] },
        mark: { type: 'point', filled: true, size: 40 },
        encoding: { x, y: { field: 'value', type: 'quantitative' }, color: { field: 'group', type: 'nominal' } },
      },
    ],
  } as TopLevelSpec;
}

/** The test-set confusion matrix of one run as a heatmap with counts. */
export function confusionSpec(run: RunView): TopLevelSpec | undefined {
  const cm = run.summary?.['confusionMatrix'] as { labels: string[]; matrix: number[][] } | undefined;
  if (!cm) return undefined;
  const values = cm.matrix.flatMap((row, t) => row.map((count, p) => ({ actual: cm.labels[t], predicted: cm.labels[p], count })));
  const size = Math.max(180, Math.min(360, cm.labels.length * 28));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: `Confusion matrix: ${runSuffix(run.id)} (test split)`,
    width: size,
    height: size,
    data: { values },
    encoding: {
      x: { field: 'predicted', type: 'ordinal', sort: cm.labels, title: 'predicted' },
      y: { field: 'actual', type: 'ordinal', sort: cm.labels, title: 'actual' },
    },
    layer: [
      { mark: 'rect', encoding: { color: { field: 'count', type: 'quantitative', scale: { scheme: 'blues' }, legend: null } } },
      {
        mark: { type: 'text', fontSize: 9 },
        encoding: {
          text: { field: 'count', type: 'quantitative' },
          color: { condition: { test: `datum.count > ${Math.max(...cm.matrix.flat()) / 2}`, value: 'white' }, value: 'black' },
        },
      },
    ],
  };
}
