import { build } from './build.js';
import { compile } from './compile.js';
import { evaluate } from './evaluate.js';
import { fit } from './fit.js';
import { load } from './load.js';
import { normalize } from './normalize.js';

/** The stage registry: load -> normalize -> build -> compile -> fit -> evaluate. */
export const STAGES = [load, normalize, build, compile, fit, evaluate] as const;
