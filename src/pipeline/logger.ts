import { pino, type Logger } from 'pino';
import { RUN_FILES, type RunDir } from '../runs/run-dir.js';

/** The run's pino log: everything to events.jsonl; warnings also to the person (`warn`) and to `warnings`. */
export function runLogger(runDir: RunDir, warn: ((msg: string) => void) | undefined, warnings: string[]): Logger {
  const file = pino.destination({ dest: runDir.file(RUN_FILES.events), sync: true });
  // Warnings only: errors reach the person through the run's outcome, not twice.
  const forward = (line: string) => {
    const entry = JSON.parse(line) as { msg: string; level: number };
    if (entry.level !== 40) return;
    warn?.(entry.msg);
    warnings.push(entry.msg);
  };
  return pino({ level: 'debug', base: { run: runDir.id } }, pino.multistream([{ level: 'debug', stream: file }, { level: 'warn', stream: { write: forward } }]));
}
