import { createModel } from '../model/create.js';
import type { Stage, StageContext } from './stage.js';
import type { ModelOutput } from './types.js';
import type { Prepared } from '../data/prepared.js';

/** Builds the layer stack for the prepared examples' shape, with seeded initializers. */
export const build: Stage<ModelOutput, { normalize: Prepared }> = {
  name: 'build',
  needs: ['normalize'],
  async run({ normalize: data }, ctx: StageContext) {
    const model = createModel(ctx.spec.model.layers, data.inputShape, ctx.seed);
    // The data's class count is known only now for idx files: check the output against it before any training.
    const outputs = model.outputs[0]!.shape[model.outputs[0]!.shape.length - 1];
    const last = ctx.spec.model.layers.length - 1;
    if (data.task === 'regression' && outputs !== 1) {
      model.dispose();
      throw new Error(`the model outputs ${outputs} values but a regression predicts one; set the last layer's units (model.layers[${last}]) to 1`);
    }
    if (data.oneHot && outputs !== data.numClasses) {
      model.dispose();
      throw new Error(`the model outputs ${outputs} values but the one-hot labels have ${data.numClasses} classes; set the last layer's units (model.layers[${last}]) to ${data.numClasses}`);
    }
    const lines: string[] = [];
    model.summary(100, undefined, (line: string) => lines.push(line));
    ctx.log.info({ params: model.countParams(), inputShape: data.inputShape }, 'model built');
    ctx.annotate('model', { params: model.countParams(), inputShape: data.inputShape, summary: lines });
    return { model };
  },
};
