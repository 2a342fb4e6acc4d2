import { createModel } from '../model/create.js';
import type { Stage, StageContext } from '../pipeline/stage.js';
import type { ModelOutput, Prepared } from './types.js';

/** Builds the layer stack for the prepared examples' shape, with seeded initializers. */
export const build: Stage<ModelOutput, { normalize: Prepared }> = {
  name: 'build',
  needs: ['normalize'],
  async run({ normalize: data }, ctx: StageContext) {
    const model = createModel(ctx.spec.model.layers, data.inputShape, ctx.seed);
    const lines: string[] = [];
    model.summary(100, undefined, (line: string) => lines.push(line));
    ctx.log.info({ params: model.countParams(), inputShape: data.inputShape }, 'model built');
    ctx.annotate('model', { params: model.countParams(), inputShape: data.inputShape, summary: lines });
    return { model };
  },
};
