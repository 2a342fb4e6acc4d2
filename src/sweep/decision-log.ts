import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RunnerError } from '../core/errors.js';
import type { Decision, SchedulerConfig } from './scheduler.js';

/** The first line of decisions.jsonl: which sweep, scheduler and configurations the decisions are about. */
interface Header { readonly type: 'sweep'; readonly id: string; readonly scheduler: SchedulerConfig | null; readonly trials: readonly string[] }

/**
 * `<sweep folder>/decisions.jsonl`: every decision of an adaptive sweep (start, promote) and every
 * result it was made from, appended as it happens. A sweep started again replays it and goes on
 * where it stopped; a last line cut short by a kill is dropped.
 */
export class DecisionLog {
  private constructor(readonly file: string, readonly decisions: Decision[]) {}

  static open(dir: string, header: Omit<Header, 'type'>): DecisionLog {
    const file = join(dir, 'decisions.jsonl');
    const head: Header = { type: 'sweep', ...header };
    if (!existsSync(file)) {
      writeFileSync(file, `${JSON.stringify(head)}\n`);
      return new DecisionLog(file, []);
    }
    // What follows the last newline is empty, or a line a kill cut short: either way it goes.
    const whole = readFileSync(file, 'utf8').split('\n');
    whole.pop();
    const bad = (n: number, why: string) => new RunnerError(`${file} line ${n}: ${why}`, 2, ['the decision log is written by runner sweep; move the sweep folder away to start the sweep afresh']);
    const parsed = whole.map((line, i) => {
      try {
        return JSON.parse(line) as unknown;
      } catch {
        throw bad(i + 1, 'not valid JSON');
      }
    });
    const first = parsed[0] as Partial<Header> | undefined;
    if (!first || first.type !== 'sweep') throw bad(1, 'not a sweep header');
    if (first.id !== head.id || JSON.stringify(first.scheduler) !== JSON.stringify(head.scheduler) || JSON.stringify(first.trials) !== JSON.stringify(head.trials)) {
      throw bad(1, `it records sweep ${String(first.id)} with another scheduler or other trials than this one (${head.id})`);
    }
    const decisions = parsed.slice(1).map((d, i) => {
      const x = d as Partial<Decision>;
      if (!['start', 'promote', 'result'].includes(String(x.type)) || typeof x.trial !== 'string' || typeof x.rung !== 'number' || typeof x.epochs !== 'number') throw bad(i + 2, 'not a decision');
      return d as Decision;
    });
    // Drop a torn last line for good, so that what is appended next starts on a line of its own.
    writeFileSync(file, [...whole, ''].join('\n'));
    return new DecisionLog(file, decisions);
  }

  append(d: Decision): void {
    appendFileSync(this.file, `${JSON.stringify(d)}\n`);
    this.decisions.push(d);
  }
}
