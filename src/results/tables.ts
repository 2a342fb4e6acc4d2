import { safeText } from '../core/text.js';

/** Aligned plain-text table: first row is the header, columns padded to their widest cell; cells printed safe (no control or bidi characters). */
export function textTable(input: readonly (readonly string[])[], indent = ''): string {
  const rows = input.map((r) => r.map(safeText));
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => [...(r[c] ?? '')].length)));
  return rows.map((r) => indent + r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]! + ([...cell].length - cell.length)))).join('  ').trimEnd()).join('\n');
}

/** GitHub-flavoured markdown table; `|` in cells is escaped. */
export function markdownTable(rows: readonly (readonly string[])[], align: readonly ('l' | 'r')[] = []): string {
  const esc = (s: string) => safeText(s).replace(/\|/g, '\\|');
  const [head, ...body] = rows;
  const sep = head!.map((_, c) => (align[c] === 'r' ? '---:' : '---'));
  return [head!, sep, ...body].map((r) => `| ${r.map(esc).join(' | ')} |`).join('\n');
}

/** RFC 4180 CSV. */
export function csv(rows: readonly (readonly unknown[])[]): string {
  const cell = (v: unknown) => {
    const s = v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return `${rows.map((r) => r.map(cell).join(',')).join('\n')}\n`;
}

const BARS = '▁▂▃▄▅▆▇█';

/** A sparkline of values on a shared [min, max] scale (so several runs' lines compare). */
export function sparkline(values: readonly number[], min = Math.min(...values), max = Math.max(...values)): string {
  if (values.length === 0) return '';
  return values.map((v) => BARS[max > min ? Math.round(((v - min) / (max - min)) * (BARS.length - 1)) : 3]).join('');
}

/** `3m ago`, `2h ago`, `5d ago`. */
export function age(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

/** `42.1s`, `3m 05s`, `1h 02m`. */
export function duration(seconds: number | undefined): string {
  if (seconds === undefined) return '-';
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m}m ${String(Math.round(seconds % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}
