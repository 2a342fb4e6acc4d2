import * as tf from '../backend/tf.js';
import type { OptimizerSpec } from '../spec/types.js';
import { FUSED_BACKENDS, KERNELS, registerFusedKernels } from './kernels.js';
import { baseLearningRate } from './lr-schedule.js';
import type { OptimizerState } from './types.js';

const f = Math.fround;

/** The optimizers runner has fused kernels for. */
export type FusedOptimizerSpec = Extract<OptimizerSpec, { adam: unknown } | { sgd: unknown } | { rmsprop: unknown }>;

/** Whether the fused kernels can run this optimizer on this backend (tfjs-node, adamax, adagrad and adadelta keep the stock optimizers). */
export function fusedSupported(backend: string, spec: OptimizerSpec): spec is FusedOptimizerSpec {
  return (FUSED_BACKENDS as readonly string[]).includes(backend) && ('adam' in spec || 'sgd' in spec || 'rmsprop' in spec);
}

/**
 * The spec's optimizer as one fused kernel call per weight tensor. Holds its slots (moments)
 * as tensors of its own, updated in place; scalar state (Adam's beta powers) lives in JS,
 * rounded to float32 as tfjs does.
 */
export class FusedOptimizer {
  private readonly slots: tf.Tensor[][];
  private accBeta1 = 0;
  private accBeta2 = 0;
  /** Set by a learning-rate schedule; the spec's rate otherwise. */
  learningRate: number;

  constructor(private readonly spec: FusedOptimizerSpec, private readonly vars: readonly tf.Variable[]) {
    registerFusedKernels();
    const n = 'adam' in spec ? 2 : 'rmsprop' in spec ? 2 : 'sgd' in spec && (spec.sgd.momentum > 0 || spec.sgd.nesterov) ? 1 : 0;
    this.slots = vars.map((v) => Array.from({ length: n }, () => tf.zeros(v.shape)));
    this.learningRate = baseLearningRate(spec);
    if ('adam' in spec) {
      this.accBeta1 = f(spec.adam.beta1);
      this.accBeta2 = f(spec.adam.beta2);
    }
  }

  /** Applies one step: `grads[i]` is the gradient of `vars[i]`. */
  apply(grads: readonly tf.Tensor[]): void {
    const { kernel, attrs } = this.kernelFor();
    this.vars.forEach((v, i) => {
      const inputs: Record<string, tf.Tensor> = { w: v, g: grads[i]! };
      this.slots[i]!.forEach((s, k) => (inputs[`s${k}`] = s));
      const [updated] = tf.engine().runKernel(kernel, inputs, attrs) as tf.Tensor[];
      v.assign(updated!);
      updated!.dispose();
    });
    if ('adam' in this.spec) {
      this.accBeta1 = f(this.accBeta1 * f(this.spec.adam.beta1));
      this.accBeta2 = f(this.accBeta2 * f(this.spec.adam.beta2));
    }
  }

  /** Slot values and Adam's beta powers, copied out (the slots are updated in place). */
  getState(): OptimizerState {
    const arrays = this.slots.flatMap((slots, i) => slots.map((t, k) => ({ name: `slot/${i}/${k}`, shape: t.shape, values: (t.dataSync() as Float32Array).slice() })));
    return { arrays, scalars: { accBeta1: this.accBeta1, accBeta2: this.accBeta2 } };
  }

  /** Puts saved slots and scalars back; the state must come from the same optimizer and model. */
  setState(state: OptimizerState): void {
    const byName = new Map(state.arrays.map((a) => [a.name, a]));
    this.slots.forEach((slots, i) => slots.forEach((t, k) => {
      // By position: layer names carry process-wide counters, positions do not.
      const name = `slot/${i}/${k}`;
      const saved = byName.get(name);
      if (!saved || saved.values.length !== t.size) throw new Error(`the checkpoint has no optimizer slot '${name}' of ${t.size} values: it was written for another model or optimizer`);
      slots[k] = tf.tensor(saved.values, t.shape);
      t.dispose();
    }));
    this.accBeta1 = state.scalars['accBeta1'] ?? this.accBeta1;
    this.accBeta2 = state.scalars['accBeta2'] ?? this.accBeta2;
  }

  private kernelFor(): { kernel: string; attrs: Record<string, number> } {
    const s = this.spec;
    if ('adam' in s) {
      const a = s.adam;
      return {
        kernel: KERNELS.adam,
        attrs: {
          beta1: f(a.beta1), beta2: f(a.beta2), oneMinusBeta1: f(1 - a.beta1), oneMinusBeta2: f(1 - a.beta2),
          oneMinusAccBeta1: f(1 - this.accBeta1), oneMinusAccBeta2: f(1 - this.accBeta2), epsilon: f(a.epsilon), negLr: f(-this.learningRate),
        },
      };
    }
    if ('rmsprop' in s) {
      const r = s.rmsprop;
      return { kernel: KERNELS.rmsprop, attrs: { decay: f(r.rho), oneMinusDecay: f(1 - r.rho), lr: f(this.learningRate), momentum: f(r.momentum), epsilon: f(r.epsilon) } };
    }
    const g = s.sgd;
    if (g.momentum > 0 || g.nesterov) return { kernel: KERNELS.momentum, attrs: { negLr: f(-this.learningRate), momentum: f(g.momentum), nesterov: g.nesterov ? 1 : 0 } };
    return { kernel: KERNELS.sgd, attrs: { negLr: f(-this.learningRate) } };
  }

  dispose(): void {
    tf.dispose(this.slots.flat());
  }
}
