import { describe, expect, it } from 'vitest';
import { planStages } from '../../src/pipeline/graph.js';

const s = (name: string, ...needs: string[]) => ({ name, needs });

describe('planStages', () => {
  it('orders every stage after what it needs, whatever the declaration order', () => {
    const plan = planStages([s('fit', 'compile', 'normalize'), s('evaluate', 'fit'), s('compile', 'build'), s('build', 'normalize'), s('normalize', 'load'), s('load')]);
    expect(plan.map((p) => p.name)).toEqual(['load', 'normalize', 'build', 'compile', 'fit', 'evaluate']);
  });

  it('breaks ties by declaration order, so the plan is the same every time', () => {
    expect(planStages([s('b'), s('a'), s('c', 'a')]).map((p) => p.name)).toEqual(['b', 'a', 'c']);
    expect(planStages([s('a'), s('b'), s('c', 'a')]).map((p) => p.name)).toEqual(['a', 'b', 'c']);
  });

  it('rejects an unknown need with a suggestion', () => {
    expect(() => planStages([s('load'), s('fit', 'laod')])).toThrow("stage 'fit' needs unknown stage 'laod'; did you mean 'load'?");
  });

  it('rejects a stage declared twice', () => {
    expect(() => planStages([s('load'), s('load')])).toThrow("stage 'load' is declared twice");
  });

  it('rejects a cycle and names it', () => {
    expect(() => planStages([s('load'), s('a', 'load', 'c'), s('b', 'a'), s('c', 'b')])).toThrow('the stages form a cycle: a -> c -> b -> a');
  });
});
