import * as tf from '../backend/tf.js';
import type { OptimizerSpec } from '../spec/types.js';
import { FUSED_BACKENDS, KERNELS, registerFusedKernels } from './kernels.js';
import type { OptimizerState } from './types.js';

const f = Math.fround;

/** The optimizers runner has fused kernels for. */
export type FusedOptimizerSpec = Extract<OptimizerSpec, { adam: unknown } | { sgd: unknown } | { rmsprop: unknown }>;

/** SGD steps with a velocity slot when it has momentum or Nesterov (tfjs's MomentumOptimizer), plainly otherwise. */
export const usesMomentum = (sgd: { momentum: number; nesterov: boolean }): boolean => sgd.momentum > 0 || sgd.nesterov;

/** Whether the fused kernels can run this optimizer on this backend (tfjs-node, adamax, adagrad and adadelta keep the stock optimizers). */
export function fusedSupported(backend: string, spec: OptimizerSpec): spec is FusedOptimizerSpec {
  return (FUSED_BACKENDS as readonly string[]).includes(backend) && ('adam' in spec || 'sgd' in spec || 'rmsprop' in spec);
}

type Rule = keyof typeof KERNELS;

/** Marks runner's optimizer: tfjs's Optimizer answers `instanceof` for any optimizer-shaped object, subclasses included. */
const FUSED = Symbol('runner.fusedOptimizer');

/** Whether an optimizer is runner's fused one (fit then takes the fused step). */
export const isFusedOptimizer = (o: unknown): o is FusedOptimizer => typeof o === 'object' && o !== null && FUSED in o;

/** The update rule of a spec, and the slots (moments) it keeps per weight. */
function ruleOf(spec: FusedOptimizerSpec): { rule: Rule; slots: number } {
  if ('adam' in spec) return { rule: 'adam', slots: 2 };
  if ('rmsprop' in spec) return { rule: 'rmsprop', slots: 2 };
  return usesMomentum(spec.sgd) ? { rule: 'momentum', slots: 1 } : { rule: 'sgd', slots: 0 };
}

/** The tfjs class each rule stands in for: model.json's training config names it, so tfjs reads the model back. */
const CLASS_NAMES: Record<Rule, string> = { adam: 'Adam', rmsprop: 'RMSProp', momentum: 'Momentum', sgd: 'SGD' };

/**
 * The spec's optimizer as one fused kernel call per weight tensor: a tf.Optimizer, so compile
 * attaches it to the model and fit steps it. Holds its slots as tensors of its own, updated in
 * place; scalar state (Adam's beta powers) lives in JS, rounded to float32 as tfjs does.
 */
export class FusedOptimizer extends tf.Optimizer {
  readonly [FUSED] = true;
  private readonly rule: Rule;
  private readonly slotCount: number;
  private vars: tf.Variable[] = [];
  private slots: tf.Tensor[][] = [];
  private accBeta1 = 0;
  private accBeta2 = 0;
  /** Set by a learning-rate schedule; the spec's rate otherwise. */
  learningRate: number;

  constructor(private readonly spec: FusedOptimizerSpec) {
    super();
    registerFusedKernels();
    ({ rule: this.rule, slots: this.slotCount } = ruleOf(spec));
    this.learningRate = (Object.values(spec)[0] as { learningRate: number }).learningRate;
    if ('adam' in spec) {
      this.accBeta1 = f(spec.adam.beta1);
      this.accBeta2 = f(spec.adam.beta2);
    }
  }

  /** The variables it updates, in this order; their slots start at zero. */
  bind(vars: readonly tf.Variable[]): void {
    tf.dispose(this.slots.flat());
    this.vars = [...vars];
    this.slots = vars.map((v) => Array.from({ length: this.slotCount }, () => tf.zeros(v.shape)));
  }

  /** tf.Optimizer's step (model.trainOnBatch calls it): gradients by variable name. */
  override applyGradients(grads: tf.NamedTensorMap | { name: string; tensor: tf.Tensor }[]): void {
    const byName = Array.isArray(grads) ? Object.fromEntries(grads.map((g) => [g.name, g.tensor])) : grads;
    if (this.vars.length === 0) this.bind(Object.keys(byName).map((name) => tf.engine().registeredVariables[name]!));
    this.apply(this.vars.map((v) => byName[v.name]!));
  }

  /** Applies one step: `grads[i]` is the gradient of the i-th bound variable. */
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

  override getClassName(): string {
    return CLASS_NAMES[this.rule];
  }

  /** The same config as the tfjs optimizer it stands in for. */
  override getConfig(): tf.serialization.ConfigDict {
    const s = this.spec;
    if ('adam' in s) return { learningRate: this.learningRate, beta1: s.adam.beta1, beta2: s.adam.beta2, epsilon: s.adam.epsilon };
    if ('rmsprop' in s) return { learningRate: this.learningRate, decay: s.rmsprop.rho, momentum: s.rmsprop.momentum, epsilon: s.rmsprop.epsilon, centered: s.rmsprop.centered };
    if (this.rule === 'momentum') return { learningRate: this.learningRate, momentum: s.sgd.momentum, useNesterov: s.sgd.nesterov };
    return { learningRate: this.learningRate };
  }

  private kernelFor(): { kernel: string; attrs: Record<string, number> } {
    const s = this.spec;
    const kernel = KERNELS[this.rule];
    if ('adam' in s) {
      const a = s.adam;
      return {
        kernel,
        attrs: {
          beta1: f(a.beta1), beta2: f(a.beta2), oneMinusBeta1: f(1 - a.beta1), oneMinusBeta2: f(1 - a.beta2),
          oneMinusAccBeta1: f(1 - this.accBeta1), oneMinusAccBeta2: f(1 - this.accBeta2), epsilon: f(a.epsilon), negLr: f(-this.learningRate),
        },
      };
    }
    if ('rmsprop' in s) {
      const r = s.rmsprop;
      return { kernel, attrs: { decay: f(r.rho), oneMinusDecay: f(1 - r.rho), lr: f(this.learningRate), momentum: f(r.momentum), epsilon: f(r.epsilon) } };
    }
    if (this.rule === 'momentum') return { kernel, attrs: { negLr: f(-this.learningRate), momentum: f(s.sgd.momentum), nesterov: s.sgd.nesterov ? 1 : 0 } };
    return { kernel, attrs: { negLr: f(-this.learningRate) } };
  }

  override dispose(): void {
    tf.dispose(this.slots.flat());
    this.slots = [];
    this.vars = [];
  }
}
