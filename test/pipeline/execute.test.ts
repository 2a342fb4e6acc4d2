import { describe, expect, it } from 'vitest';
import { executeStages } from '../../src/pipeline/execute.js';
import { planStages } from '../../src/pipeline/graph.js';
import { type StageRecord } from '../../src/runs/record.js';
import type { Stage } from '../../src/stages/stage.js';

/** A fake stage that records its call and returns (or throws) what it is told. */
function fake(name: string, needs: string[], calls: string[], result: (inputs: Record<string, unknown>) => unknown): Stage<unknown, never, null> {
  return {
    name,
    needs,
    async run(inputs) {
      calls.push(name);
      return result(inputs as Record<string, unknown>);
    },
  };
}

describe('executeStages', () => {
  it('runs stages in plan order and passes each the outputs of what it needs', async () => {
    const calls: string[] = [];
    const stages = [
      fake('sum', ['one', 'two'], calls, (i) => (i['one'] as number) + (i['two'] as number)),
      fake('one', [], calls, () => 1),
      fake('two', [], calls, () => 2),
    ];
    const result = await executeStages(planStages(stages), null);
    expect(calls).toEqual(['one', 'two', 'sum']);
    expect(result.status).toBe('completed');
    expect(result.outputs.get('sum')).toBe(3);
    expect(result.stages.every((r) => r.status === 'done' && r.durationMs !== undefined && r.startedAt)).toBe(true);
  });

  it('skips evaluate (and only the dependents) when fit throws', async () => {
    const calls: string[] = [];
    const stages = [
      fake('load', [], calls, () => 'data'),
      fake('fit', ['load'], calls, () => {
        throw new Error('loss became NaN at epoch 3, batch 112');
      }),
      fake('evaluate', ['fit'], calls, () => 'summary'),
      fake('report', ['evaluate'], calls, () => 'html'),
      fake('stats', ['load'], calls, () => 'stats'),
    ];
    const result = await executeStages(planStages(stages), null);
    expect(calls).toEqual(['load', 'fit', 'stats']);
    expect(result.status).toBe('failed');
    expect(result.failed?.stage).toBe('fit');
    const byName = Object.fromEntries(result.stages.map((r) => [r.name, r]));
    expect(byName['fit']).toMatchObject({ status: 'failed', error: 'loss became NaN at epoch 3, batch 112' });
    expect(byName['evaluate']).toMatchObject({ status: 'skipped', skippedBecause: 'fit' });
    expect(byName['report']).toMatchObject({ status: 'skipped', skippedBecause: 'evaluate' });
    expect(byName['stats']!.status).toBe('done');
  });

  it('records a non-Error throw as readable text', async () => {
    const result = await executeStages(planStages([fake('a', [], [], () => { throw { code: 42 }; })]), null);
    expect(result.stages[0]!.error).toBe('{"code":42}');
  });

  it('reports every status change, with start times and durations from the clock', async () => {
    const snapshots: string[] = [];
    let t = 1000;
    const clock = () => (t += 5);
    const result = await executeStages(planStages([fake('a', [], [], () => 1), fake('b', ['a'], [], () => 2)]), null,
      (records: readonly StageRecord[]) => snapshots.push(records.map((r) => `${r.name}:${r.status}`).join(',')), clock);
    expect(snapshots).toEqual(['a:pending,b:pending', 'a:running,b:pending', 'a:done,b:pending', 'a:done,b:running', 'a:done,b:done']);
    expect(result.stages.map((r) => r.durationMs)).toEqual([5, 5]);
  });

  it('starts no stage once the signal has aborted: the next fails as interrupted, its dependents are skipped', async () => {
    const calls: string[] = [];
    const controller = new AbortController();
    const stages = [
      fake('load', [], calls, () => controller.abort()),
      fake('fit', ['load'], calls, () => 'model'),
      fake('evaluate', ['fit'], calls, () => 'summary'),
    ];
    const result = await executeStages(planStages(stages), null, undefined, undefined, { signal: controller.signal });
    expect(calls).toEqual(['load']);
    expect(result.stages.map((r) => `${r.name}:${r.status}`)).toEqual(['load:done', 'fit:failed', 'evaluate:skipped']);
    expect(result.failed?.stage).toBe('fit');
  });

  it('rejects a cyclic graph before running anything', async () => {
    const calls: string[] = [];
    expect(() => planStages([fake('a', ['b'], calls, () => 1), fake('b', ['a'], calls, () => 1)])).toThrow('cycle');
    expect(calls).toEqual([]);
  });
});
