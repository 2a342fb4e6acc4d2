import { age, duration, textTable } from '../results/tables.js';
import { listRuns } from '../runs/listing.js';

/** `runner ls`: one line per run, newest first. */
export function lsCommand(dir = 'runs', format: 'table' | 'json' = 'table', now = Date.now()): string {
  const rows = listRuns(dir);
  if (format === 'json') return `${JSON.stringify(rows, null, 2)}\n`;
  if (rows.length === 0) return `no runs in ${dir}\n`;
  const table = [['id', 'name', 'status', 'age', 'duration', 'metric']];
  // Copied run folders keep their id: then the folder tells them apart.
  const shared = new Set(rows.map((r) => r.id).filter((id, i, all) => all.indexOf(id) !== i || id !== rows[i]!.folder));
  for (const r of rows) {
    table.push([
      shared.has(r.id) ? `${r.id} (folder ${r.folder})` : r.id, r.name, r.status,
      r.startedAt ? age(now - Date.parse(r.startedAt)) : '-',
      duration(r.durationSeconds),
      r.metric ? `${r.metric.name} ${r.metric.value.toFixed(4)}` : (r.problem ?? '-'),
    ]);
  }
  return `${textTable(table)}\n`;
}
