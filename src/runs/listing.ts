import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { messageOf, RunnerError } from '../core/errors.js';
import { isRunDir, readRun, type RunView } from './reader.js';
import { runValues } from './values.js';

/** One line of `runner ls`. */
export interface RunListing {
  id: string;
  /** The run's folder name (a copied folder keeps the id it was made with). */
  folder: string;
  name: string;
  status: string;
  startedAt?: string;
  durationSeconds?: number;
  metric?: { name: string; value: number };
  problem?: string;
}

function listing(run: RunView): RunListing {
  const values = runValues(run);
  const metric = values['test.accuracy'] !== undefined ? { name: 'test.accuracy', value: values['test.accuracy'] }
    : values['test.loss'] !== undefined ? { name: 'test.loss', value: values['test.loss'] } : undefined;
  const started = run.record.startedAt;
  const seconds = typeof run.record.durationMs === 'number' ? run.record.durationMs / 1000
    : run.status === 'running' && started ? (Date.now() - Date.parse(started)) / 1000 : undefined;
  return { id: run.id, folder: basename(run.dir), name: run.name, status: run.status, startedAt: started, durationSeconds: seconds, metric, ...(run.problems.length ? { problem: run.problems.join('; ') } : {}) };
}

/** Every run folder under `dir`, newest first; unreadable ones are listed with their problem. */
export function listRuns(dir: string): RunListing[] {
  if (!existsSync(dir)) throw new RunnerError(`'${dir}' does not exist: no runs yet? (runs are written to runs/ or --out DIR)`);
  if (!statSync(dir).isDirectory()) throw new RunnerError(`'${dir}' is a file: give the folder that holds the run folders`);
  const rows = readdirSync(dir).filter((d) => isRunDir(join(dir, d))).map((d): RunListing => {
    try {
      return listing(readRun(join(dir, d)));
    } catch (err) {
      return { id: d, folder: d, name: '', status: 'unreadable', problem: messageOf(err) };
    }
  });
  return rows.sort((a, b) => (b.startedAt ?? b.id).localeCompare(a.startedAt ?? a.id));
}
