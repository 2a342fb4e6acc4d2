import { relative } from 'node:path';
import type { RunOutcome } from '../pipeline/run.js';

/** A score as the result lines show it: four decimals. */
const fixed4 = (v: unknown) => (typeof v === 'number' ? v.toFixed(4) : 'n/a');

/** The few lines `runner run` (resume, reproduce) prints at the end: test metrics, status, where the run is. */
export function formatOutcome(o: RunOutcome): string {
  const where = relative(process.cwd(), o.runDir) || o.runDir;
  const lines: string[] = [];
  if (o.status === 'completed') {
    const s = o.summary ?? {};
    // A regression's summary has r2 (and mae, mse); a classification's has accuracy.
    const shown = 'r2' in s ? ['loss', 'mae', 'r2'] : ['loss', 'accuracy'];
    lines.push(`test: ${shown.map((k) => `${k} ${fixed4(s[k])}`).join('  ')}  (${String(s['examples'] ?? '?')} examples)`);
  } else if (o.status === 'stopped') {
    const fit = o.stages.find((s) => s.status === 'stopped');
    lines.push(`runner: stopped in stage '${fit?.name ?? 'fit'}' (a checkpoint was written)`, `  continue it with: runner resume ${where}`);
  } else if (o.error) {
    const what = o.status === 'interrupted' ? `interrupted in stage '${o.error.stage}'` : `stage '${o.error.stage}' failed`;
    lines.push(`runner: ${what}: ${o.error.message}`);
    const skipped = o.stages.filter((s) => s.status === 'skipped').map((s) => s.name);
    if (skipped.length) lines.push(`  skipped: ${skipped.join(', ')}`);
    if (o.status === 'interrupted') lines.push(`  continue it with: runner resume ${relative(process.cwd(), o.runDir) || o.runDir}`);
  }
  lines.push(`${o.status === 'completed' ? '' : '  '}run: ${where} (status: ${o.status}, backend: ${o.backend.used}${o.backend.threads && o.backend.threads > 1 ? `, ${o.backend.threads} threads` : ''})`);
  return `${lines.join('\n')}\n`;
}
