import { dataKind } from '../data/kinds.js';
import { RUN_FILES, type RunDir } from '../runs/run-dir.js';
import { dataLog } from './load.js';
import type { RunnerStage } from './stage.js';

/** Applies the preprocess steps in order, fitted on the training split only; writes what they fitted to preprocess.json (predict replays it). */
export const normalize: RunnerStage<'normalize', 'load'> = {
  name: 'normalize',
  needs: ['load'],
  async run({ load: data }, ctx) {
    const prepared = dataKind(ctx.spec.data).prepare(data, ctx.spec, dataLog(ctx));
    writeFitted(ctx.runDir, prepared.fitted);
    return prepared;
  },
};

/** preprocess.json, and for text the vocabulary too (one token a line, index 2 first; 0 pads, 1 is out-of-vocabulary). */
export function writeFitted(runDir: RunDir, fitted: Record<string, unknown>): void {
  runDir.writeJson(RUN_FILES.preprocess, fitted);
  const text = fitted['text'] as { vocabulary?: readonly string[] } | undefined;
  if (text?.vocabulary) runDir.write(RUN_FILES.vocabulary, `${text.vocabulary.join('\n')}\n`);
}
