import type { Progress } from '../stages/stage.js';

const fmt = (v: number | undefined) => (v === undefined ? '' : v.toFixed(4));

/** One line per epoch: what a log file or CI console should get. */
export function epochLine(epoch: number, epochs: number, logs: Record<string, number>): string {
  const parts = [`epoch ${String(epoch).padStart(String(epochs).length)}/${epochs}`];
  // Every logged value in the order fit records them: loss, metrics, val_ twins, lr.
  for (const [k, v] of Object.entries(logs)) if (k !== 'epoch' && k !== 'seconds') parts.push(`${k} ${k === 'lr' ? v.toPrecision(3) : fmt(v)}`);
  parts.push(`${(logs['seconds'] ?? 0).toFixed(1)}s`);
  return parts.join('  ');
}

/** Progress on a stream: a bar with ETA when it is a TTY, a plain line per epoch otherwise. */
export function streamProgress(out: NodeJS.WriteStream | { write(s: string): boolean; isTTY?: boolean }): Progress {
  const tty = Boolean(out.isTTY);
  let epochs = 0;
  let batches = 0;
  let epoch = 0;
  let started = 0;
  let lastDraw = 0;
  return {
    epochStart(e, total, steps) {
      epoch = e;
      epochs = total;
      batches = steps;
      started = performance.now();
      lastDraw = 0;
    },
    batch(done) {
      if (!tty) return;
      const now = performance.now();
      // Redraw at most 10 times a second: drawing every batch would cost more than the batch.
      if (now - lastDraw < 100 && done < batches) return;
      lastDraw = now;
      const width = 30;
      const filled = Math.round((done / batches) * width);
      const eta = ((now - started) / done) * (batches - done) / 1000;
      out.write(`\r\x1b[2Kepoch ${epoch}/${epochs} [${'='.repeat(filled)}${' '.repeat(width - filled)}] ${done}/${batches}  ETA ${eta.toFixed(0)}s`);
    },
    epochEnd(e, logs) {
      out.write(`${tty ? '\r\x1b[2K' : ''}${epochLine(e, epochs, logs)}\n`);
    },
  };
}

