import { dataKind } from '../data/kinds.js';
import { RUN_FILES } from '../runs/run-dir.js';
import { dataLog } from './load.js';
import type { RunnerStage } from './stage.js';

/** Applies the preprocess steps in order, fitted on the training split only; writes what they fitted to preprocess.json (predict replays it). */
export const normalize: RunnerStage<'normalize', 'load'> = {
  name: 'normalize',
  needs: ['load'],
  async run({ load: data }, ctx) {
    const prepared = dataKind(ctx.spec.data).prepare(data, ctx.spec, dataLog(ctx));
    ctx.runDir.writeJson(RUN_FILES.preprocess, prepared.fitted);
    return prepared;
  },
};
