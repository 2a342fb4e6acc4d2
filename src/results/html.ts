import type { Comparison } from './compare.js';
import { formatComparisonRows } from './compare-format.js';
import type { RunView } from '../runs/reader.js';
import { confusionSpec, curvesSpec, renderSvg } from './charts.js';

export const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function table(rows: readonly (readonly string[])[], cls: string): string {
  const [head, ...body] = rows;
  const tr = (r: readonly string[], tag: 'th' | 'td') => `<tr>${r.map((c) => `<${tag}>${esc(c)}</${tag}>`).join('')}</tr>`;
  return `<table class="${cls}"><thead>${tr(head!, 'th')}</thead><tbody>${body.map((r) => tr(r, 'td')).join('')}</tbody></table>`;
}

export const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #222; padding: 0 1rem; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: .5rem 0; } th, td { padding: .25rem .6rem; border-bottom: 1px solid #eee; text-align: left; }
table.metrics td:not(:first-child) { text-align: right; font-variant-numeric: tabular-nums; }
.charts { display: flex; flex-wrap: wrap; gap: 1.5rem; } .chart { display: inline-block; }
.warn { color: #8a5a00; } code { font-size: 90%; }`;

/** One self-contained HTML page: curves, confusion matrices, params diff, metrics; charts are inline SVG. */
export async function buildReport(runs: readonly RunView[], comparison: Comparison | undefined, generatedAt = new Date(), cards: ReadonlyMap<string, string> = new Map()): Promise<string> {
  const curves = (['loss', 'accuracy'] as const).map((m) => curvesSpec(runs, m)).filter((s) => s !== undefined);
  const confusion = runs.map(confusionSpec).filter((s) => s !== undefined);
  const curveSvgs = await Promise.all(curves.map(renderSvg));
  const confusionSvgs = await Promise.all(confusion.map(renderSvg));
  const rows = comparison ? formatComparisonRows(comparison) : undefined;
  const runTable = rows?.runRows ?? [['id', 'name', 'status'], ...runs.map((r) => [r.id, r.name, r.status])];
  const parts = [
    '<!doctype html><html lang="en"><head><meta charset="utf-8">',
    `<title>runner report: ${esc(runs.map((r) => r.name).filter((n, i, a) => a.indexOf(n) === i).join(', '))}</title>`,
    `<style>${STYLE}</style></head><body>`,
    `<h1>runner report</h1><p>${runs.length} run(s), generated ${esc(generatedAt.toISOString())}</p>`,
    '<h2>Runs</h2>', table(runTable, 'runs'),
    ...(cards.size ? [`<p>Model cards: ${[...cards].map(([id, href]) => `<a href="${esc(href)}">${esc(id)}</a>`).join(', ')}</p>`] : []),
    '<h2>Learning curves</h2>',
    curveSvgs.length ? `<div class="charts">${curveSvgs.map((s) => `<div class="chart">${s}</div>`).join('')}</div>` : '<p>No epochs recorded.</p>',
  ];
  if (rows) {
    parts.push('<h2>Spec values that differ</h2>', comparison!.params.length ? table(rows.params, 'params') : '<p>No spec values differ.</p>');
    parts.push('<h2>Metrics</h2>', table(rows.metrics, 'metrics'));
    if (comparison!.warnings.length) parts.push(`<ul class="warn">${comparison!.warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul>`);
  } else {
    if (runs[0]!.problems.length) parts.push(`<ul class="warn">${runs[0]!.problems.map((w) => `<li>${esc(w)}</li>`).join('')}</ul>`);
    parts.push('<h2>Metrics</h2>', table([['metric', 'value'], ...Object.entries(runs[0]!.summary ?? {}).filter(([, v]) => typeof v === 'number').map(([k, v]) => [k, String(v)])], 'metrics'));
  }
  parts.push('<h2>Confusion matrices</h2>', confusionSvgs.length ? `<div class="charts">${confusionSvgs.map((s) => `<div class="chart">${s}</div>`).join('')}</div>` : '<p>No test summary.</p>');
  parts.push('</body></html>\n');
  return parts.join('\n');
}
