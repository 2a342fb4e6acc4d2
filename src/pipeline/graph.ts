import { RunnerError } from '../core/errors.js';
import { didYouMean } from '../core/suggest.js';

/** The part of a stage the planner needs. */
export interface Node { readonly name: string; readonly needs: readonly string[] }

/** Stages in an order planStages checked: the only order executeStages runs. */
export type StagePlan<T extends Node> = readonly T[] & { readonly __planned: true };

/**
 * Checks the graph (duplicate names, unknown needs, cycles) and returns a deterministic
 * order: every stage after what it needs, ties broken by declaration order.
 */
export function planStages<T extends Node>(stages: readonly T[]): StagePlan<T> {
  const byName = new Map<string, T>();
  for (const s of stages) {
    if (byName.has(s.name)) throw new RunnerError(`stage '${s.name}' is declared twice`, 1);
    byName.set(s.name, s);
  }
  for (const s of stages) {
    for (const need of s.needs) {
      if (!byName.has(need)) {
        const hint = didYouMean(need, [...byName.keys()]);
        throw new RunnerError(`stage '${s.name}' needs unknown stage '${need}'${hint ? `; did you mean '${hint}'?` : ''}`, 1);
      }
    }
  }
  const order: T[] = [];
  const done = new Set<string>();
  while (order.length < stages.length) {
    const ready = stages.find((s) => !done.has(s.name) && s.needs.every((n) => done.has(n)));
    if (!ready) throw new RunnerError(`the stages form a cycle: ${findCycle(stages, done).join(' -> ')}`, 1);
    order.push(ready);
    done.add(ready.name);
  }
  return order as readonly T[] as StagePlan<T>;
}

function findCycle(stages: readonly Node[], done: Set<string>): string[] {
  const needs = new Map(stages.map((s) => [s.name, s.needs.filter((n) => !done.has(n))]));
  const start = stages.find((s) => !done.has(s.name))!.name;
  const path: string[] = [];
  let cur: string | undefined = start;
  while (cur !== undefined && !path.includes(cur)) {
    path.push(cur);
    cur = needs.get(cur)?.[0];
  }
  return cur === undefined ? path : [...path.slice(path.indexOf(cur)), cur];
}
