import { randomBytes } from 'node:crypto';
import { linkSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { RunnerError } from '../core/errors.js';
import { alive } from '../core/process.js';

/** Who holds a run folder: written into its lock file. */
export interface LockOwner { readonly pid: number; readonly host: string; readonly since: string }

const LOCK = 'run.lock';

function readOwner(file: string): LockOwner | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as LockOwner;
  } catch {
    return undefined;
  }
}

/**
 * An exclusive hold on a run folder for one process (run, resume, a sweep's trial): the lock file
 * is complete before it appears (written aside, then hard-linked into place, which fails when one
 * exists), so two processes starting at the same moment cannot both hold it. A lock left by a dead
 * process of this host is taken over, and `warn` says so; one of another host only with `takeOver`.
 */
export class RunLock {
  private constructor(private readonly file: string, private readonly owner: LockOwner) {}

  static acquire(dir: string, warn: (msg: string) => void = () => {}, takeOver = false): RunLock {
    const file = join(dir, LOCK);
    const owner: LockOwner = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
    const aside = `${file}.${process.pid}-${randomBytes(3).toString('hex')}`;
    writeFileSync(aside, `${JSON.stringify(owner)}\n`);
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        try {
          linkSync(aside, file);
          return new RunLock(file, owner);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        }
        const held = readOwner(file);
        // Another host's process cannot be checked from here: its lock is taken over only when told (a sweep queue knows it is gone).
        if (held && (held.host !== owner.host ? !takeOver : alive(held.pid))) {
          throw new RunnerError(`${dir} is in use by pid ${held.pid} on ${held.host} (since ${held.since})`, 2, ['wait for that process to end; a run folder is written by one process at a time']);
        }
        // A dead process's lock (or an unreadable one): move it away; of two takers only one rename succeeds.
        try {
          renameSync(file, `${file}.stale-${randomBytes(3).toString('hex')}`);
          warn(`took over the lock of ${dir} from pid ${held?.pid ?? '?'}${held && held.host !== owner.host ? ` on ${held.host}` : ''}, which is no longer running`);
        } catch {
          // Another process took it over first: try again, and find it held.
        }
      }
      throw new RunnerError(`${dir}: could not lock the run folder`);
    } finally {
      rmSync(aside, { force: true });
    }
  }

  /** Gives the folder up (only a lock this process still holds is removed). */
  release(): void {
    if (readOwner(this.file)?.pid === this.owner.pid) rmSync(this.file, { force: true });
  }
}
