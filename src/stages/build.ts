import { createModel } from '../model/create.js';
import { formatPath } from '../spec/overrides.js';
import { outputUnitsProblem } from '../spec/rules.js';
import type { RunnerStage } from './stage.js';

/** Builds the layer stack for the prepared examples' shape, with seeded initializers. */
export const build: RunnerStage<'build', 'normalize'> = {
  name: 'build',
  needs: ['normalize'],
  async run({ normalize: data }, ctx) {
    const vocabularySize = data.fitted['vocabularySize'];
    const model = createModel(ctx.spec.model.layers, data.inputShape, ctx.seed, typeof vocabularySize === 'number' ? { vocabularySize } : {});
    // The data's class count is known only now for idx files: check the output against it before any training.
    const units = data.task === 'classification' ? outputUnitsProblem(ctx.spec, data.numClasses, 'the data') : undefined;
    if (units) {
      model.dispose();
      throw new Error(`${formatPath(units.path)}: ${units.message}`);
    }
    const lines: string[] = [];
    model.summary(100, undefined, (line: string) => lines.push(line));
    ctx.log.info({ params: model.countParams(), inputShape: data.inputShape }, 'model built');
    ctx.annotate('model', { params: model.countParams(), inputShape: data.inputShape, summary: lines });
    return { model };
  },
};
