import { dataKind } from '../data/kinds.js';
import type { RunnerStage, StageContext } from './stage.js';

/** What the data kinds tell the run: warnings to the person and the log, info to the log. */
export const dataLog = (ctx: StageContext) => ({ warn: (m: string) => ctx.log.warn(m), info: (m: string) => ctx.log.info(m) });

/** Finds and reads the dataset or table, applies the limits and holds out the test and validation splits; records the data fingerprint. */
export const load: RunnerStage<'load'> = {
  name: 'load',
  needs: [],
  async run(_inputs, ctx) {
    const { output, fingerprint } = await dataKind(ctx.spec.data).load({ spec: ctx.spec, specDir: ctx.specDir, session: ctx.data }, dataLog(ctx));
    ctx.annotate('data', fingerprint);
    ctx.log.info({ data: fingerprint }, 'data loaded');
    return output;
  },
};
